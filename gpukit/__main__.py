"""`python -m gpukit` runs the CLI."""

from gpukit.cli import main

if __name__ == "__main__":
    main()
