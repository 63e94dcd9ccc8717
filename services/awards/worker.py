"""Worker process: ``python -m services.awards.worker``."""
from shared.service import run_worker

from services.awards.service import SPEC


def main() -> None:
    run_worker(SPEC)


if __name__ == "__main__":
    main()
