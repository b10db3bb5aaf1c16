"""``python -m diarize``: the `diarize` commands alone (the console script adds uploading)."""

import typer

from diarize.cli import register

app = typer.Typer(add_completion=False, no_args_is_help=True)


@app.callback()
def main() -> None:
    """Who spoke when in call recordings, as Gong call metadata."""


register(app)

if __name__ == "__main__":
    app()
