"""The web gateway: the platform's pages and paperwork, over the four services' public HTTP APIs."""
