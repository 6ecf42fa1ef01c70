"""One module per `qa` subcommand, each exposing a click `command`."""
