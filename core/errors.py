class DomainError(Exception):
    """A rule said no. The message is written for the person at the screen and says what to do."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
