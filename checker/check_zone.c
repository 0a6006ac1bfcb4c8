/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libknot/errcode.h>
#include <libknot/rdataset.h>
#include <libknot/rrtype/rdname.h>
#include <libknot/wire.h>

#include "check_zone.h"
#include "config_rules.h"
#include "exchange_name.h"
#include "log_line.h"
#include "mx_check.h"
#include "no_mail.h"
#include "no_mail_records.h"
#include "zone_index.h"
#include "zone_load.h"

_Static_assert(CHECK_KIND_COUNT <= 32, "kinds are bits of fail_rule_t");

// One zone being checked.
typedef struct {
	const check_options_t *opt;
	const mx_policy_t *policy;
	const policy_instance_t *instance;  // NULL without -c.
	mx_name_list_t *no_mail;   // The instance's list, or NULL.
	unsigned threshold;        // Findings at or above it fail (--fail-on)...
	bool by_default;           // ...unless the server answers them by design.
	zone_index_t *idx;
	char zone_txt[KNOT_DNAME_TXT_MAXLEN + 1];
	const zone_node_t *node;   // The MX RRset's owner.
	const uint32_t *rr_line;   // Line and file of each record of the RRset.
	const uint16_t *rr_file;
	const char *catalog;       // A member's catalog zone, or NULL.
	no_mail_t nm;              // What makes a name a no-mail name.
	unsigned no_mail_names;    // --no-mail-records: names, lines, warnings.
	unsigned lines;
	unsigned warnings;
	unsigned count[CHECK_KIND_COUNT];
	unsigned findings;
	unsigned notes;
	unsigned failing;
	unsigned rrsets;
	unsigned skipped;
} run_t;

static const char *name_txt(const knot_dname_t *name, char *buf)
{
	if (knot_dname_to_str(buf, name, KNOT_DNAME_TXT_MAXLEN + 1) == NULL) {
		strcpy(buf, "?");
	}
	return buf;
}

/*
 * Whether a finding fails the run. By default, the names the server answers
 * with a null MX by design do not: the names of a no-mail list (the
 * instance's null-mx items, or --no-mail standing for them) and, under
 * null-mx-implicit, the names with addresses and no MX.
 */
static bool fails(const run_t *run, unsigned kind, mx_action_t action)
{
	const fail_rule_t *rule = &run->opt->fail_on;
	if (rule->include & (1u << kind)) {
		return true;
	}
	if (rule->exclude & (1u << kind)) {
		return false;
	}
	if (run->by_default && (kind == CHECK_NULL_MX_MISSING ||
	    (kind == CHECK_IMPLICIT_MX && action == MX_ACTION_NULL_MX))) {
		return false;
	}
	return action >= run->threshold;
}

static void count_finding(run_t *run, unsigned kind, mx_action_t action)
{
	run->count[kind]++;
	run->findings++;
	if (fails(run, kind, action)) {
		run->failing++;
	}
}

// The violations of one RRset, gathered to be written in record order.
typedef struct {
	mx_violation_t *v;
	size_t count;
	size_t cap;
	bool failed;
} found_t;

static void collect_finding(const mx_violation_t *v, void *ctx)
{
	found_t *found = ctx;
	if (found->count == found->cap) {
		size_t cap = found->cap ? 2 * found->cap : 16;
		mx_violation_t *grown = realloc(found->v, cap * sizeof(*grown));
		if (grown == NULL) {
			found->failed = true;
			return;
		}
		found->v = grown;
		found->cap = cap;
	}
	found->v[found->count++] = *v;
}

static void on_violation(const mx_violation_t *v, void *ctx)
{
	run_t *run = ctx;
	mx_action_t action = run->policy->action[v->kind];
	const char *file = zone_index_file(run->idx, run->rr_file[v->rr_index]);
	uint32_t line = run->rr_line[v->rr_index];
	count_finding(run, v->kind, action);

	if (!run->opt->json) {
		char text[1024];
		if (mx_log_line(text, sizeof(text), run->node->name, v,
		                mx_action_name(action), 0) < 0) {
			strcpy(text, "violation ?");
		}
		printf("%s:%u: %s\n", file, line, text);
		return;
	}

	char name[KNOT_DNAME_TXT_MAXLEN + 1];
	json_key("file", file, true);
	printf(", \"line\": %u", line);
	json_key("zone", run->zone_txt, false);
	json_key("violation", mx_kind_name(v->kind), false);
	json_key("owner", name_txt(run->node->name, name), false);
	json_key("exchange", name_txt(v->exchange, name), false);
	printf(", \"preference\": %u", v->preference);
	if (v->has_addr) {
		char addr[MX_ADDR_STRLEN];
		json_key("address", mx_addr_to_str(&v->addr, addr, sizeof(addr)), false);
	}
	if (v->provider != NULL) {
		json_key("provider", v->provider, false);
	}
	json_key("action", mx_action_name(action), false);
	printf("}\n");
}

// A finding of the checker alone: a name, no record.
static void report_name(run_t *run, unsigned kind, const zone_node_t *node,
                        uint16_t file, uint32_t line, mx_action_t action)
{
	const char *kind_name = check_kind_name(kind);
	count_finding(run, kind, action);

	char name[KNOT_DNAME_TXT_MAXLEN + 1];
	name_txt(node->name, name);
	const char *file_name = zone_index_file(run->idx, file);
	if (!run->opt->json) {
		printf("%s:%u: violation %s, owner %s, action %s\n", file_name, line,
		       kind_name, name, mx_action_name(action));
		return;
	}
	json_key("file", file_name, true);
	printf(", \"line\": %u", line);
	json_key("zone", run->zone_txt, false);
	json_key("violation", kind_name, false);
	json_key("owner", name, false);
	json_key("action", mx_action_name(action), false);
	printf("}\n");
}

// A no-mail name's SPF or DMARC record missing or letting mail through: the
// module's line (exchange . and preference 0, as it logs this kind), with
// the detail before the action.
static void report_no_mail(run_t *run, const zone_node_t *node, const no_mail_finding_t *f)
{
	mx_action_t action = run->policy->action[MX_KIND_NO_MAIL_POLICY];
	count_finding(run, MX_KIND_NO_MAIL_POLICY, action);

	char name[KNOT_DNAME_TXT_MAXLEN + 1];
	name_txt(node->name, name);
	const char *file = zone_index_file(run->idx, f->file);
	if (!run->opt->json) {
		printf("%s:%u: violation %s, owner %s, exchange ., preference 0, record %s, "
		       "detail %s, action %s\n", file, f->line,
		       mx_kind_name(MX_KIND_NO_MAIL_POLICY), name, f->record, f->detail,
		       mx_action_name(action));
		return;
	}
	json_key("file", file, true);
	printf(", \"line\": %u", f->line);
	json_key("zone", run->zone_txt, false);
	json_key("violation", mx_kind_name(MX_KIND_NO_MAIL_POLICY), false);
	json_key("owner", name, false);
	json_key("exchange", ".", false);
	printf(", \"preference\": 0");
	json_key("record", f->record, false);
	json_key("detail", f->detail, false);
	json_key("action", mx_action_name(action), false);
	printf("}\n");
}

// --no-mail-records: the zone-file lines a no-mail name lacks on standard
// output, what must be changed instead on standard error.
static void print_needs(run_t *run, const zone_node_t *node, const char *path)
{
	uint32_t ttl = zone_index_soa_minimum(run->idx);
	no_mail_rr_t rrs[4];
	size_t count = no_mail_needs(&run->nm, node, ttl > 0 ? ttl : 3600, rrs);
	char name[KNOT_DNAME_TXT_MAXLEN + 1];
	name_txt(node->name, name);
	run->no_mail_names++;
	for (size_t i = 0; i < count; i++) {
		const no_mail_rr_t *rr = &rrs[i];
		if (rr->warning) {
			fprintf(stderr, "%s:%u: warning: %s\n", zone_index_file(run->idx, rr->file),
			        rr->line, rr->text);
			run->warnings++;
			continue;
		}
		if (run->opt->json) {
			json_key("file", path, true);
			json_key("zone", run->zone_txt, false);
			json_key("owner", name, false);
			json_key("record", rr->record, false);
			json_key("rr", rr->text, false);
			printf("}\n");
		} else {
			if (run->lines == 0) {
				printf("; no-mail records for zone %s (%s)\n", run->zone_txt, path);
			}
			printf("%s\n", rr->text);
		}
		run->lines++;
	}
}

// Tells whether Knot 3.2 or 3.3 would see the exchange otherwise than the
// checker: knotd lists a glue node for every name the zone has (or a
// wildcard covers), wherever it lies, and the module judges by that list.
// For an exchange of the zone without one, it cannot tell a missing name
// from one below a delegation or a DNAME: it logs missing-address as
// inferred, and never enforces it.
static bool inferred_missing(const run_t *run, const knot_rdata_t *rd)
{
	if (run->opt->knot_series >= KNOT_SERIES_LOOKUPS ||
	    !mx_kind_is(MX_KIND_MISSING_ADDRESS, MX_KIND_F_EXACT_WITH_LOOKUPS) ||
	    run->policy->action[MX_KIND_MISSING_ADDRESS] == MX_ACTION_OFF ||
	    !mx_rdata_ok(rd)) {
		return false;
	}
	const knot_dname_t *exchange = knot_mx_name(rd);
	return zone_index_in_zone(run->idx, exchange) &&
	       !mx_exchange_ip_literal(exchange, NULL) &&
	       !zone_index_has_name(run->idx, exchange);
}

// What the older server does with a record: a note, not a finding.
static void report_note(run_t *run, const knot_rdata_t *rd, uint16_t rr_index)
{
	const char *file = zone_index_file(run->idx, run->rr_file[rr_index]);
	uint32_t line = run->rr_line[rr_index];
	unsigned major = run->opt->knot_series >> 8;
	unsigned minor = run->opt->knot_series & 0xff;
	char owner[KNOT_DNAME_TXT_MAXLEN + 1], exchange[KNOT_DNAME_TXT_MAXLEN + 1];
	name_txt(run->node->name, owner);
	name_txt(knot_mx_name(rd), exchange);
	unsigned preference = knot_wire_read_u16(rd->data);
	run->notes++;

	if (!run->opt->json) {
		fprintf(stderr, "%s:%u: note: knotd %u.%u logs missing-address, owner %s, "
		        "exchange %s, preference %u (inferred: the zone has no name for "
		        "it; never enforced)\n", file, line, major, minor, owner, exchange,
		        preference);
		return;
	}
	char version[16];
	snprintf(version, sizeof(version), "%u.%u", major, minor);
	json_key("file", file, true);
	printf(", \"line\": %u", line);
	json_key("zone", run->zone_txt, false);
	json_key("note", mx_kind_name(MX_KIND_MISSING_ADDRESS), false);
	json_key("owner", owner, false);
	json_key("exchange", exchange, false);
	printf(", \"preference\": %u", preference);
	json_key("knot_version", version, false);
	json_key("action", mx_action_name(MX_ACTION_LOG), false);
	printf(", \"inferred\": true}\n");
}

// Checks the MX RRset of a node, each record with the line it came from.
static int check_mx(run_t *run, const zone_node_t *node)
{
	knot_rdataset_t rrs;
	knot_rdataset_init(&rrs);
	uint8_t buf[knot_rdata_size(UINT16_MAX)];
	knot_rdata_t *rd = (knot_rdata_t *)buf;
	for (uint32_t i = node->mx_head; i != ZONE_NONE; ) {
		const zone_mx_t *mx = zone_index_mx(run->idx, i);
		knot_rdata_init(rd, mx->rdlen, mx->rdata);
		if (knot_rdataset_add(&rrs, rd, NULL) != KNOT_EOK) {
			knot_rdataset_clear(&rrs, NULL);
			return KNOT_ENOMEM;
		}
		i = mx->next;
	}

	// The set is in canonical order without duplicates: find each record's
	// first occurrence.
	uint32_t lines[rrs.count];
	uint16_t files[rrs.count];
	knot_rdata_t *r = rrs.rdata;
	for (uint16_t k = 0; k < rrs.count; k++, r = knot_rdataset_next(r)) {
		lines[k] = node->line;
		files[k] = node->file;
		for (uint32_t i = node->mx_head; i != ZONE_NONE; ) {
			const zone_mx_t *mx = zone_index_mx(run->idx, i);
			if (mx->rdlen == r->len && memcmp(mx->rdata, r->data, r->len) == 0) {
				lines[k] = mx->line;
				files[k] = mx->file;
				break;
			}
			i = mx->next;
		}
	}

	mx_rrset_view_t view = {
		.zone = zone_index_apex(run->idx),
		.owner = node->name,
		.rrs = &rrs,
		.lookup = zone_index_lookup,
		.lookup_ctx = run->idx,
	};
	run->node = node;
	run->rr_line = lines;
	run->rr_file = files;
	run->rrsets++;
	// The rules report provider-mix after the other kinds: findings are
	// written in the records' order (kinds in the rules' order within one).
	found_t found = { 0 };
	(void)mx_check_rrset(&view, run->policy, collect_finding, &found);
	r = rrs.rdata;
	for (uint16_t k = 0; k < rrs.count; k++, r = knot_rdataset_next(r)) {
		for (size_t i = 0; i < found.count; i++) {
			if (found.v[i].rr_index == k) {
				on_violation(&found.v[i], run);
			}
		}
		if (inferred_missing(run, r)) {
			report_note(run, r, k);
		}
	}
	free(found.v);
	knot_rdataset_clear(&rrs, NULL);
	if (found.failed) {
		return KNOT_ENOMEM;
	}
	return KNOT_EOK;
}

// "mod-mxguard/ID", or "mod-mxguard" for the defaults.
static const char *instance_ref(const policy_instance_t *inst, char *buf, size_t len)
{
	snprintf(buf, len, MX_CONF_SECTION "%s%s", inst->id ? "/" : "",
	         inst->id ? inst->id : "");
	return buf;
}

// A summary's start: the file, the zone, the instance and catalog if any.
static void summary_head(const run_t *run, const char *path, const char *ref, bool json)
{
	if (json) {
		json_key("file", path, true);
		json_key("zone", run->zone_txt, false);
		if (ref[0] != '\0') {
			json_key("module", ref, false);
		}
		if (run->catalog != NULL) {
			json_key("catalog", run->catalog, false);
		}
		return;
	}
	fprintf(stderr, "%s: zone %s", path, run->zone_txt);
	if (ref[0] != '\0') {
		fprintf(stderr, ", module %s", ref);
	}
	if (run->catalog != NULL) {
		fprintf(stderr, ", catalog %s", run->catalog);
	}
}

// --no-mail-records: how many names, lines and warnings.
static void print_needs_summary(const run_t *run, const char *path, const char *ref)
{
	if (run->opt->json) {
		summary_head(run, path, ref, true);
		printf(", \"no_mail_names\": %u, \"lines\": %u, \"warnings\": %u}\n",
		       run->no_mail_names, run->lines, run->warnings);
		return;
	}
	summary_head(run, path, ref, false);
	fprintf(stderr, ": %u no-mail name%s, %u line%s to add, %u warning%s\n",
	        run->no_mail_names, run->no_mail_names == 1 ? "" : "s", run->lines,
	        run->lines == 1 ? "" : "s", run->warnings, run->warnings == 1 ? "" : "s");
}

static void print_summary(const run_t *run, const char *path, size_t records)
{
	if (run->opt->quiet) {
		return;
	}
	char ref[512] = "";
	if (run->instance != NULL) {
		instance_ref(run->instance, ref, sizeof(ref));
	}
	if (run->opt->no_mail_records) {
		print_needs_summary(run, path, ref);
		return;
	}
	if (run->opt->json) {
		summary_head(run, path, ref, true);
		printf(", \"records\": %zu, \"rrsets\": %u, \"not_served\": %u, "
		       "\"findings\": %u, \"failing\": %u, \"notes\": %u}\n", records,
		       run->rrsets, run->skipped, run->findings, run->failing, run->notes);
		return;
	}
	summary_head(run, path, ref, false);
	fprintf(stderr, ": %zu records, %u MX RRsets checked", records, run->rrsets);
	if (run->skipped > 0) {
		fprintf(stderr, " (%u not served: outside the zone, at or below a "
		        "delegation or a DNAME)", run->skipped);
	}
	fprintf(stderr, ", %u finding%s", run->findings, run->findings == 1 ? "" : "s");
	const char *sep = " (";
	for (unsigned k = 0; k < CHECK_KIND_COUNT; k++) {
		if (run->count[k] == 0) {
			continue;
		}
		fprintf(stderr, "%s%s %u", sep, check_kind_name(k), run->count[k]);
		sep = ", ";
	}
	fprintf(stderr, "%s", sep[0] == ',' ? ")" : "");
	// Only when --fail-on (or its default) leaves some out.
	if (run->failing < run->findings) {
		fprintf(stderr, ", %u failing", run->failing);
	}
	if (run->notes > 0) {
		fprintf(stderr, ", %u note%s for knotd %u.%u", run->notes,
		        run->notes == 1 ? "" : "s", run->opt->knot_series >> 8,
		        run->opt->knot_series & 0xff);
	}
	fprintf(stderr, "\n");
}

/*
 * The instance a zone is checked with: --module-id's; else, with -c, the
 * one knotd serves the zone with (zone, template or global module), else
 * the section "default", else the module's defaults.
 */
static const policy_instance_t *zone_instance(const check_options_t *opt, const char *zone)
{
	if (opt->instance != NULL || opt->conf == NULL) {
		return opt->instance;
	}
	const policy_zone_t *served = policy_conf_zone(opt->conf, zone);
	if (served != NULL) {
		return served->instance;
	}
	const policy_instance_t *inst = policy_conf_find(opt->conf, "default");
	return inst != NULL ? inst : &opt->conf->defaults;
}

static bool policy_rewrites(const mx_policy_t *policy)
{
	return mx_conf_rewrites(policy, false, false);
}

// A zone of the configuration whose file is not there yet: not checked.
static bool missing(const check_options_t *opt, const zone_job_t *job, const char *zone)
{
	if (!job->served || access(job->path, F_OK) == 0 || errno != ENOENT) {
		return false;
	}
	char text[KNOT_DNAME_TXT_MAXLEN + 128];
	snprintf(text, sizeof(text), "zone %s not checked: %s", zone, strerror(ENOENT));
	report_error(opt, job->path, 0, zone, "missing", text);
	return true;
}

int check_zone_file(const check_options_t *opt, const zone_job_t *job)
{
	const char *path = job->path;
	char given[KNOT_DNAME_TXT_MAXLEN + 1];
	const char *zone = (job->origin != NULL) ? name_txt(job->origin, given) : NULL;
	if (zone != NULL && missing(opt, job, zone)) {
		return EXIT_UNCHECKED;
	}
	zone_index_t *idx = zone_index_new();
	if (idx == NULL) {
		report_error(opt, path, 0, zone, "unreadable", "out of memory");
		return EXIT_TROUBLE;
	}
	size_t records = 0;
	load_msgs_t msgs = { .opt = opt };
	int ret = zone_load_msg(idx, path, job->origin, load_msg, &msgs, &records);
	load_msgs_finish(&msgs, path, zone, ret);
	if (ret != KNOT_EOK) {
		zone_index_free(idx);
		return EXIT_TROUBLE;
	}

	run_t run = { .opt = opt, .idx = idx, .catalog = job->catalog };
	name_txt(zone_index_apex(idx), run.zone_txt);
	mx_policy_t fallback;
	mx_policy_init(&fallback, MX_ACTION_LOG);
	run.instance = job->instance ? job->instance : zone_instance(opt, run.zone_txt);
	run.policy = (run.instance != NULL) ? &run.instance->policy : &fallback;
	run.nm = (no_mail_t) { .idx = idx, .listed = opt->no_mail,
	                       .dmarc = MX_CONF_NO_MAIL_DMARC_DEF };
	if (run.instance != NULL) {
		run.no_mail = run.instance->no_mail;
		run.nm.served = run.instance->no_mail;
		run.nm.implicit = run.instance->implicit;
		run.nm.records = run.instance->records;
		run.nm.dmarc = run.instance->dmarc ? run.instance->dmarc : run.nm.dmarc;
	}
	// By default, fail on what the server would change, else on anything;
	// with kinds only, on those kinds only.
	run.threshold = opt->fail_on.threshold;
	if (run.threshold == FAIL_UNSET) {
		run.by_default = opt->fail_on.include == 0;
		run.threshold = !run.by_default ? FAIL_NEVER :
		                policy_rewrites(run.policy) ? MX_ACTION_STRIP : MX_ACTION_LOG;
	}

	int status = EXIT_CLEAN;
	size_t count = zone_index_count(idx);
	for (uint32_t n = 0; n < count; n++) {
		const zone_node_t *node = zone_index_node(idx, n);
		if (!(node->flags & ZONE_HAS_DATA)) {
			continue;
		}
		if (!(node->flags & ZONE_IN_ZONE)) {
			char name[KNOT_DNAME_TXT_MAXLEN + 1];
			fprintf(stderr, "%s:%u: warning: %s is outside the zone %s, ignored\n",
			        zone_index_file(idx, node->file), node->line,
			        name_txt(node->name, name), run.zone_txt);
			run.skipped += (node->flags & ZONE_HAS_MX) ? 1 : 0;
			continue;
		}
		// Data below a cut is not what the server answers with.
		if (!zone_index_authoritative(idx, node)) {
			run.skipped += (node->flags & ZONE_HAS_MX) ? 1 : 0;
			continue;
		}
		no_mail_why_t why = no_mail_name(&run.nm, node);
		if (opt->no_mail_records) {
			if (why != NO_MAIL_NOT) {
				print_needs(&run, node, path);
			}
			continue;
		}
		if ((node->flags & ZONE_HAS_MX) && check_mx(&run, node) != KNOT_EOK) {
			fprintf(stderr, "%s: error: out of memory\n", path);
			status = EXIT_TROUBLE;
			break;
		}
		// The server answers a name of its own list with a null MX (action
		// null-mx); a name of --no-mail stands for such a list (action log).
		// Attribute leaves such as _dmarc.N are never no-mail names.
		bool leaf = mx_dname_underscored(node->name);
		bool served_list = !leaf && run.no_mail != NULL &&
		                   mx_name_list_match(run.no_mail, node->name);
		if (!(node->flags & (ZONE_NULL_MX | ZONE_HAS_CNAME)) && !leaf && (served_list ||
		    (opt->no_mail != NULL && mx_name_list_match(opt->no_mail, node->name)))) {
			report_name(&run, CHECK_NULL_MX_MISSING, node, node->file, node->line,
			            served_list ? MX_ACTION_NULL_MX : MX_ACTION_LOG);
		}
		bool served = !leaf && run.instance != NULL && run.instance->implicit;
		if ((opt->implicit || served) && (node->flags & ZONE_HAS_ADDR) &&
		    !(node->flags & ZONE_HAS_MX)) {
			const zone_addr_t *addr = zone_index_addr(idx, node->addr_head);
			report_name(&run, CHECK_IMPLICIT_MX, node, addr->file, addr->line,
			            served ? MX_ACTION_NULL_MX : MX_ACTION_LOG);
		}
		no_mail_finding_t found[2];
		size_t found_count = 0;
		if (why != NO_MAIL_NOT &&
		    run.policy->action[MX_KIND_NO_MAIL_POLICY] != MX_ACTION_OFF) {
			found_count = no_mail_judge(&run.nm, node, why, found);
		}
		for (size_t i = 0; i < found_count; i++) {
			report_no_mail(&run, node, &found[i]);
		}
	}

	print_summary(&run, path, records);
	zone_index_free(idx);
	if (status == EXIT_CLEAN && run.failing > 0) {
		status = EXIT_FINDINGS;
	}
	return status;
}
