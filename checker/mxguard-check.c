/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * mxguard-check: the module's rules, offline, on zone files. The command
 * line; each zone is checked by check_zone.c.
 */

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libknot/errcode.h>
#include <libknot/version.h>

#include "config.h"
#include "check_conf.h"
#include "check_zone.h"
#include "config_rules.h"
#include "name_list.h"
#include "policy.h"
#include "policy_conf.h"

#define PROGRAM "mxguard-check"

// The Knot series predicted by default: that of the libknot headers the
// checker is built with.
#define KNOT_SERIES_BUILT KNOT_SERIES(KNOT_VERSION_MAJOR, KNOT_VERSION_MINOR)
#define TXT_(x) #x
#define TXT(x) TXT_(x)
#define KNOT_BUILT_TXT TXT(KNOT_VERSION_MAJOR) "." TXT(KNOT_VERSION_MINOR)

static void usage(FILE *out)
{
	fprintf(out,
"Usage: " PROGRAM " [options] ZONEFILE...\n"
"       " PROGRAM " [options] -c knot.conf\n"
"\n"
"Checks every MX RRset of each zone file with the rules of mod-mxguard,\n"
"and the SPF and DMARC records of its no-mail names; with -c alone, of\n"
"every zone knotd serves with the module.\n"
"\n"
"Options:\n"
"  -o, --origin ORIGIN      zone apex (default: $ORIGIN, else the file name)\n"
"  -c, --config FILE        check a knot.conf as knotd does, use its policies\n"
"      --module-id ID       instance to use: ID, mod-mxguard/ID or mod-mxguard\n"
"                           (default: the zone's, else 'default', else defaults)\n"
"      --no-mail NAME       a no-mail NAME (or *.PARENT), as in null-mx\n"
"      --no-mail-file FILE  a list of such names, one a line\n"
"      --implicit           report names with A/AAAA and no MX\n"
"      --no-mail-records    print the records the zone's no-mail names lack\n"
"                           (MX 0 ., SPF, DMARC, DKIM) as zone-file lines,\n"
"                           instead of the findings\n"
"      --format text|json   output form (default: text)\n"
"      --fail-on LIST       exit 1 on findings whose action is at least ACTION\n"
"                           (log, strip, null-mx), of a KIND listed, not of a\n"
"                           -KIND listed; or never. Default: strip when the\n"
"                           policy strips, else log, but not null-mx-missing\n"
"                           nor null-mx-implicit's implicit-mx (the server\n"
"                           answers those names with a null MX itself)\n"
"                           KINDs: ip-literal, loopback, special-address,\n"
"                           missing-address, null-mx-conflict, self-exchange,\n"
"                           provider-mix, cname-exchange, no-mail-policy,\n"
"                           null-mx-missing, implicit-mx\n"
"      --knot-version MAJOR.MINOR\n"
"                           the knotd to predict: on 3.2 and 3.3, notes say\n"
"                           what it logs where it sees less (default: "
                           KNOT_BUILT_TXT ")\n"
"  -q, --quiet              no summary on standard error\n"
"  -h, --help               this help\n"
"  -V, --version            the version\n"
"\n"
"Exit status: 0 clean, 1 findings --fail-on fails on, 2 bad input or usage,\n"
"3 (-c) zones served with the module not checked (no zone file yet, catalog\n"
"members); 2 wins over 1, 1 over 3.\n"
"See mxguard-check(1).\n");
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	fprintf(stderr, PROGRAM ": ");
	vfprintf(stderr, fmt, args);
	va_end(args);
	fprintf(stderr, "\nTry '" PROGRAM " --help'.\n");
	return EXIT_TROUBLE;
}

static bool add_no_mail(check_options_t *opt, const char *entry, const char *file)
{
	if (opt->no_mail == NULL && (opt->no_mail = mx_name_list_new()) == NULL) {
		fprintf(stderr, PROGRAM ": out of memory\n");
		return false;
	}
	if (file != NULL) {
		char err[1024];
		if (mx_name_list_load(opt->no_mail, file, err, sizeof(err)) != KNOT_EOK) {
			fprintf(stderr, PROGRAM ": %s\n", err);
			return false;
		}
		return true;
	}
	const char *why = NULL;
	if (mx_name_list_add(opt->no_mail, entry, &why) != KNOT_EOK) {
		fprintf(stderr, PROGRAM ": --no-mail: invalid name '%s': %s\n", entry, why);
		return false;
	}
	return true;
}

// Reads "MAJOR.MINOR" (decimal, nothing else) of a series the module runs on.
static bool parse_knot_series(const char *text, unsigned *series)
{
	unsigned part[2] = { 0 };
	for (unsigned i = 0; i < 2; i++) {
		const char *start = text;
		while (*text >= '0' && *text <= '9') {
			part[i] = part[i] * 10 + (unsigned)(*text - '0');
			if (part[i] > 0xff) {
				return false;
			}
			text++;
		}
		if (text == start || *text != (i == 0 ? '.' : '\0')) {
			return false;
		}
		text++;
	}
	*series = KNOT_SERIES(part[0], part[1]);
	return *series >= KNOT_SERIES_OLDEST;
}

enum {
	OPT_MODULE_ID = 256,
	OPT_NO_MAIL,
	OPT_NO_MAIL_FILE,
	OPT_IMPLICIT,
	OPT_NO_MAIL_RECORDS,
	OPT_FORMAT,
	OPT_FAIL_ON,
	OPT_KNOT_VERSION,
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "origin",       required_argument, NULL, 'o' },
		{ "config",       required_argument, NULL, 'c' },
		{ "module-id",    required_argument, NULL, OPT_MODULE_ID },
		{ "no-mail",      required_argument, NULL, OPT_NO_MAIL },
		{ "no-mail-file", required_argument, NULL, OPT_NO_MAIL_FILE },
		{ "implicit",     no_argument,       NULL, OPT_IMPLICIT },
		{ "no-mail-records", no_argument,    NULL, OPT_NO_MAIL_RECORDS },
		{ "format",       required_argument, NULL, OPT_FORMAT },
		{ "fail-on",      required_argument, NULL, OPT_FAIL_ON },
		{ "knot-version", required_argument, NULL, OPT_KNOT_VERSION },
		{ "quiet",        no_argument,       NULL, 'q' },
		{ "help",         no_argument,       NULL, 'h' },
		{ "version",      no_argument,       NULL, 'V' },
		{ NULL }
	};

	check_options_t opt = { .fail_on = { .threshold = FAIL_UNSET },
	                        .knot_series = KNOT_SERIES_BUILT };
	const char *config = NULL;
	const char *module_id = NULL;
	knot_dname_t *origin = NULL;
	policy_conf_t conf = { 0 };
	int status = EXIT_TROUBLE;

	int c;
	while ((c = getopt_long(argc, argv, "o:c:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			free(origin);
			origin = knot_dname_from_str_alloc(optarg);
			if (origin == NULL) {
				status = usage_error("invalid origin '%s'", optarg);
				goto done;
			}
			knot_dname_to_lower(origin);
			break;
		case 'c':
			config = optarg;
			break;
		case OPT_MODULE_ID:
			module_id = optarg;
			break;
		case OPT_NO_MAIL:
		case OPT_NO_MAIL_FILE:
			if (!add_no_mail(&opt, optarg, c == OPT_NO_MAIL_FILE ? optarg : NULL)) {
				goto done;
			}
			break;
		case OPT_IMPLICIT:
			opt.implicit = true;
			break;
		case OPT_NO_MAIL_RECORDS:
			opt.no_mail_records = true;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "json") == 0) {
				opt.json = true;
			} else if (strcmp(optarg, "text") == 0) {
				opt.json = false;
			} else {
				status = usage_error("invalid format '%s' (text or json)", optarg);
				goto done;
			}
			break;
		case OPT_FAIL_ON: {
			char why[128];
			if (!fail_rule_parse(&opt.fail_on, optarg, why, sizeof(why))) {
				status = usage_error("invalid --fail-on '%s': %s", optarg, why);
				goto done;
			}
			break;
		}
		case OPT_KNOT_VERSION:
			if (!parse_knot_series(optarg, &opt.knot_series)) {
				status = usage_error("invalid --knot-version '%s' (MAJOR.MINOR, "
				                     "3.2 or later)", optarg);
				goto done;
			}
			break;
		case 'q':
			opt.quiet = true;
			break;
		case 'h':
			usage(stdout);
			status = EXIT_CLEAN;
			goto done;
		case 'V':
			printf(PROGRAM " (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			status = EXIT_CLEAN;
			goto done;
		default:
			status = usage_error("bad usage");
			goto done;
		}
	}
	if (optind >= argc && config == NULL) {
		status = usage_error("no zone file");
		goto done;
	}
	if (module_id != NULL && config == NULL) {
		status = usage_error("--module-id needs -c");
		goto done;
	}

	if (config != NULL) {
		char err[1024];
		if (policy_conf_load(&conf, config, err, sizeof(err), stderr) != KNOT_EOK) {
			fprintf(stderr, PROGRAM ": %s\n", err);
			goto done;
		}
		opt.conf = &conf;
		if (module_id != NULL &&
		    (opt.instance = policy_conf_find(&conf, module_id)) == NULL) {
			fprintf(stderr, PROGRAM ": %s: no " MX_CONF_SECTION " section with "
			        "id '%s'\n", config, module_id);
			goto done;
		}
	}
	opt.origin = origin;

	if (optind >= argc) {
		status = check_conf_zones(&opt, config);
	} else {
		status = EXIT_CLEAN;
	}
	for (int i = optind; i < argc; i++) {
		zone_job_t job = { .path = argv[i], .origin = opt.origin };
		status = exit_status_merge(status, check_zone_file(&opt, &job));
	}
	if (fflush(stdout) != 0) {
		status = EXIT_TROUBLE;
	}
done:
	policy_conf_clear(&conf);
	mx_name_list_free(opt.no_mail);
	free(origin);
	return status;
}
