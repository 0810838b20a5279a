"""``python -m univg_plugin.cli`` is ``univg``."""

if __name__ == "__main__":
    from . import main

    main()
