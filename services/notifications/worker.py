"""Worker process: ``python -m services.notifications.worker``."""
from shared.service import run_worker

from services.notifications.service import SPEC


def main() -> None:
    run_worker(SPEC)


if __name__ == "__main__":
    main()
