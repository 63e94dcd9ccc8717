"""Worker process: ``python -m services.registration.worker``."""
from shared.service import run_worker

from services.registration.service import SPEC


def main() -> None:
    run_worker(SPEC)


if __name__ == "__main__":
    main()
