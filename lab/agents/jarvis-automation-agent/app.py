"""Jarvis automation agent (lab): same psutil import, but requirements.txt already lists it.

The running image was built before `psutil>=5.9.0` was added, so it still crashes: the fix is a
rebuild (`docker compose build jarvis-automation-agent`), not another edit.
"""
import time

import psutil
from dotenv import load_dotenv

load_dotenv()
print("jarvis-automation-agent started", flush=True)
while True:
    print(f"processes={len(psutil.pids())}", flush=True)
    time.sleep(30)
