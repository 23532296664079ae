"""Jarvis hardware resource optimizer (lab): reports host load every few seconds.

Imports psutil, which requirements.txt does not list: the container crash-loops with
ModuleNotFoundError until the dependency is added and the image rebuilt.
"""
import time

import psutil  # noqa: E402  (missing from requirements.txt on purpose)
from dotenv import load_dotenv

load_dotenv()
print("jarvis-hardware-resource-optimizer started", flush=True)
while True:
    print(f"cpu={psutil.cpu_percent(interval=None)}% mem={psutil.virtual_memory().percent}%", flush=True)
    time.sleep(30)
