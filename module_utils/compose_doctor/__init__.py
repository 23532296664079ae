"""compose-doctor: pure-Python logic shared by the custom modules in library/.

Modules import it as ``ansible.module_utils.compose_doctor.<name>`` (ansible.cfg points
``module_utils`` here); tests/conftest.py makes the same import path work under pytest.
"""
