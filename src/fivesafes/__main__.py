"""``python -m fivesafes``: the ``fivesafes`` command."""

from fivesafes.cli.entry import main

if __name__ == "__main__":
    main()
