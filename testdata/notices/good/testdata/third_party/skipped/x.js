no LICENSE here, but testdata is skipped
