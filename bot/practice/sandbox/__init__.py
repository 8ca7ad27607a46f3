"""The practice sandbox: the real bot against the Telegram emulator, with a web page (issue #7)."""
