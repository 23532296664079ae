# -*- coding: utf-8 -*-
"""Network exposure (CIS 5.8, 5.10, 5.14): published ports and the host's network."""
from __future__ import absolute_import, division, print_function

from ansible.module_utils.compose_doctor.facts.compose_values import port_label
from ansible.module_utils.compose_doctor.analysis.rules.common import (
    _finding, _services,
)
from ansible.module_utils.compose_doctor.analysis.rules.privileges import (
    _host_namespace_rule,
)


def rule_port_all_interfaces(ctx):
    """Ports published on every interface: no host_ip or an unspecified one (0.0.0.0, ::, ::0,
    [::]), including container-only ports ("80", long syntax without ``published``) that Docker
    publishes on a random host port. A range is one finding."""
    out = []
    dbports = set(int(p) for p in ctx.policy["database_ports"])
    for name in sorted(ctx.services):
        for p in (ctx.services[name] or {}).get("ports") or []:
            if not p.get("all_interfaces"):
                continue
            proto = p.get("protocol") or "tcp"
            label = port_label(p)
            tgt_lo, tgt_hi = p.get("target"), p.get("target_end") or p.get("target")
            pub_lo, pub_hi = p.get("published"), p.get("published_end") or p.get("published")
            db = any(tgt_lo <= d <= tgt_hi or (pub_lo is not None and pub_lo <= d <= pub_hi) for d in dbports)
            target = tgt_lo if tgt_hi == tgt_lo else "%s-%s" % (tgt_lo, tgt_hi)
            if pub_lo is None:
                ev = "service %s publishes container port %s/%s on a random host port on all interfaces" % (
                    name, target, proto)
            else:
                ev = "service %s publishes %s/%s -> %s on all interfaces (%s)" % (
                    name, label, proto, target, p.get("host_ip") or "0.0.0.0")
            if db:
                ev += "; %s is a database port" % target
            out.append(_finding(ctx, "port-all-interfaces", "%s:%s/%s" % (name, label, proto), ev,
                                service=name, fix=True if db else None, severity="high" if db else None,
                                diagnosis={"port": pub_lo, "port_end": pub_hi, "target": tgt_lo,
                                           "target_end": tgt_hi, "protocol": proto, "database": db}))
    return out
rule_host_network = _host_namespace_rule(
    "host-network", "network_mode", "the container shares the host's network stack (every host port and "
    "local-only service, no network isolation)")


def rule_privileged_port(ctx):
    top = ctx.policy["privileged_port_max"]
    out = []
    for name, svc in _services(ctx):
        for p in svc.get("ports") or []:
            lo = p.get("published")
            if not lo or lo > top:
                continue  # a random host port (None, 0) or an unprivileged one
            proto = p.get("protocol") or "tcp"
            label = port_label(p)
            ev = "service %s publishes host port %s/%s (at or below %d, a privileged port)" % (name, label, proto, top)
            out.append(_finding(ctx, "privileged-port", "%s:%s/%s" % (name, label, proto), ev, service=name,
                                fix=None, diagnosis={"port": lo, "port_end": p.get("published_end") or lo,
                                                     "protocol": proto, "host_ip": p.get("host_ip") or None}))
    return out
