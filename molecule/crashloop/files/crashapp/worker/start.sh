#!/bin/sh
echo worker started
exec sleep infinity
