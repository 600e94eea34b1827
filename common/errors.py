class DomainError(Exception):
    """A rule of the procedure refused an action; the message is translated and shown to the user."""

    def __init__(self, message, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return str(self.message)
