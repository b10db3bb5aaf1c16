"""``python -m gong_client``: the ``gong-diarize`` console script."""

from gong_client.cli import main

if __name__ == "__main__":
    main()
