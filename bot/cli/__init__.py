"""``bot``: the one command line for operating the product (``bot/cli/main.py``), and
``bot run``, which starts every process."""
