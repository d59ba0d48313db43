no LICENSE here, but dot directories are skipped
