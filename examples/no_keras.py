"""A script without Keras training code: what most commits touch. No rule can
match it, so kerasmode-lint only checks that Python can parse it."""
import csv
import sys


def totals(path):
    sums = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            sums[row["name"]] = sums.get(row["name"], 0.0) + float(row["value"])
    return sums


if __name__ == "__main__":
    for name, value in sorted(totals(sys.argv[1]).items()):
        print(f"{name}\t{value:.2f}")
