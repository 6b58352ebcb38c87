"""Allow ``python -m containerguard``."""

from containerguard.cli.main import main

main()
