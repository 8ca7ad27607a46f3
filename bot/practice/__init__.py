"""Practice tools: the Bot API emulator, the sandbox and the benchmarks. Production code never imports them."""
