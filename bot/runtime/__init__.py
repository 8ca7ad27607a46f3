"""The PTB runtime: the assembly of the Application, the rate limiter and the update processor."""
