"""``python -m archsim.cli``: the archsim command line."""

from archsim.cli.app import main

main()
