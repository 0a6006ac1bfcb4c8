# mxguard: an MX policy module for the Knot DNS server.
# SPDX-License-Identifier: GPL-3.0-or-later
"""The command line: options, inputs read, messages on stderr, the report
written, the exit status.
"""

import argparse
import lzma
import os
import sys

from .inputs import open_input
from .output import write_csv, write_json, write_text
from .summary import DEFAULT_TOP, EXAMPLES, Report
from .timestamps import arg_time


VERSION = "0.1.0"

EXIT_OK, EXIT_NOT_UNDERSTOOD, EXIT_ERROR, EXIT_LOAD_FAILURE = 0, 1, 2, 3


def top_arg(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of groups (0: all)")
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="mxguard-report",
        description="Summarise mod-mxguard's log lines from knotd log files, syslog "
                    "files or journalctl output: violations by zone, kind and exchange, "
                    "synthesized null MX answers and rewrites not done, with counts and "
                    "first/last seen.",
        epilog="Examples: mxguard-report /var/log/knot/knot.log; "
               "journalctl -u knot --since yesterday -o json | mxguard-report; "
               "mxguard-report --format json knot.log.1.gz knot.log. "
               "Exit status: 0; 1 when a line of the module was not understood; "
               "2 on unreadable input or bad options; 3 when a line says the module "
               "was not loaded, or was loaded with errors (whatever else).")
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="knotd log files, syslog files or journalctl output "
                             "(gzip, bzip2 or xz compressed too), '-' for standard "
                             "input (the default)")
    parser.add_argument("-f", "--format", choices=("text", "csv", "json"), default="text",
                        help="output format (default: text)")
    parser.add_argument("--top", type=top_arg, default=DEFAULT_TOP, metavar="N",
                        help=f"show the N most frequent groups of each kind, counted in "
                             f"bounded memory (default: {DEFAULT_TOP}; 0: every group, "
                             "memory unbounded)")
    parser.add_argument("--since", type=arg_time, metavar="TIME",
                        help="only lines at or after TIME (YYYY-MM-DD[THH:MM[:SS]][+HH:MM]; "
                             "local time without an offset)")
    parser.add_argument("--until", type=arg_time, metavar="TIME",
                        help="only lines before TIME")
    parser.add_argument("--year", type=int,
                        help="year of syslog-style time stamps, which have none "
                             "(default: the current one)")
    parser.add_argument("--strict", action="store_true",
                        help="kept for compatibility: lines not understood always "
                             "give exit status 1 (or 3)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no examples of lines not understood, no other warnings "
                             "(their count, and the line about load failures, are still "
                             "written)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    args = parser.parse_args(argv)

    def say(text):
        print(f"mxguard-report: {text}", file=sys.stderr)

    def warn(text):
        if not args.quiet:
            say(text)

    report = Report(args.since, args.until, args.year, args.top, warn)
    for name in args.files or ["-"]:
        try:
            with open_input(name) as stream:
                report.feed("<stdin>" if name == "-" else name, stream)
        except (OSError, EOFError, lzma.LZMAError) as e:
            say(f"{name}: {getattr(e, 'strerror', None) or e}")
            return EXIT_ERROR
    failures = report.failures()
    if failures:
        (zone, _, message), _, _, first = failures[0]
        say(f"LOAD FAILURE: {report.totals()['load_failures']} line(s) say mod-mxguard was "
            f"not loaded, or was loaded with errors; the first: {first.where}: "
            f"{'[' + zone + '] ' if zone else ''}{message[:300]}")
    if report.malformed:
        shown = min(report.malformed, EXAMPLES)
        say(f"{report.malformed} line(s) of the module not understood"
            + (f" (the first {shown} above)" if not args.quiet else ""))
    for month, n in report.unknown_months.items():
        warn(f"month name '{month}' not known: {n} line(s) have no time stamp")
    if report.untimed and (args.since or args.until):
        warn(f"{report.untimed} line(s) without a time stamp were kept whatever the period")

    out = sys.stdout
    try:
        {"text": write_text, "csv": write_csv, "json": write_json}[args.format](report, out)
        out.flush()
    except BrokenPipeError:
        # The reader stopped (| head): the status is still the log's.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if failures:
        return EXIT_LOAD_FAILURE
    return EXIT_NOT_UNDERSTOOD if report.malformed else EXIT_OK
