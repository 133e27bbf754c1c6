"""`python -m framepred` runs the command-line interface."""

from framepred.cli.app import main

if __name__ == "__main__":
    main()
