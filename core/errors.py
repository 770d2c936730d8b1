from collections.abc import Callable


class DomainError(Exception):
    """A rule said no. The message is written for the person at the screen and says what to do.

    `after_rollback` is what must be recorded although the service refused (a wrong sign-off is
    counted even though the med pass's transaction is rolled back). Whoever catches the refusal
    outside the service's transaction calls `settle()`; `core.views.run_service` does.
    """

    after_rollback: Callable[[], None] | None = None

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        after_rollback: Callable[[], None] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.after_rollback = after_rollback

    def settle(self) -> None:
        """Record what must outlast the refusal. Call it once the service's transaction has been
        rolled back (outside `transaction.atomic`); the callback is idempotent."""
        if self.after_rollback is not None:
            self.after_rollback()
