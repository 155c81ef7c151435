"""routing's HTTP routes, one module per resource; `routing.router` puts them together."""
