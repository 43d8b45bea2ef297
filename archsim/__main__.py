"""``python -m archsim``: the archsim command line."""

from archsim.cli.app import main

main()
