"""The `dialer` command: argument parsing, progress, `--json` output, benchmark runners."""
