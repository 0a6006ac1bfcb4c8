/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>
#include <libknot/libknot.h>

#include "answer_scan.h"
#include "log_line.h"

static void *mm_get(knot_mm_t *mm, size_t size)
{
	return mm->alloc(mm->ctx, size);
}

bool mx_wire_owner(const knot_pkt_t *pkt, uint16_t rr_pos, knot_dname_t *out)
{
	uint16_t pos = pkt->rr_info[rr_pos].pos;
	if (pos >= pkt->size) {
		return false;
	}
	return knot_dname_unpack(out, pkt->wire + pos, KNOT_DNAME_MAXLEN, pkt->wire) > 0;
}

static void collect(const mx_violation_t *v, void *data)
{
	mx_scan_t *scan = data;
	if (scan->violation_count < scan->violation_cap) {
		scan->violations[scan->violation_count++] = *v;
	}
}

// A no-mail name with MX records: the list wins, the RRset becomes a null MX.
static void add_override(mx_scan_t *scan, const mx_scan_params_t *p,
                         const knot_dname_t *owner, const knot_rdataset_t *rrs)
{
	if (p->no_mail == NULL || !mx_rdata_ok(rrs->rdata) ||
	    mx_rdataset_is_null_mx(rrs) || !mx_name_list_match(p->no_mail, owner)) {
		return;
	}
	mx_violation_t v = {
		.kind = MX_KIND_NULL_MX_OVERRIDE,
		.preference = knot_wire_read_u16(rrs->rdata->data),
		.exchange = knot_mx_name(rrs->rdata),
	};
	collect(&v, scan);
}

// The RRSIG of the answer that covers the MX RRset at this owner.
static void find_rrsig(const knot_pkt_t *pkt, mx_scan_rrset_t *job)
{
	const knot_pktsection_t *answer = knot_pkt_section(pkt, KNOT_ANSWER);
	job->rrsig_pos = -1;
	for (uint16_t i = 0; i < answer->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(answer, i);
		knot_dname_storage_t name;
		if (mx_rrsig_covers(rr, KNOT_RRTYPE_MX) && rr->rrs.rdata->len >= 4 &&
		    mx_wire_owner(pkt, answer->pos + i, name) &&
		    knot_dname_is_case_equal(name, job->owner)) {
			job->rrsig_pos = answer->pos + i;
			job->rrsig_labels = knot_rrsig_labels(rr->rrs.rdata);
			return;
		}
	}
}

/*** The verdict cache's key besides zone, owner and records: the exchanges. ***/

typedef struct {
	uint8_t *buf;
	size_t len;
	bool full;
} verdict_key_t;

static void key_put(verdict_key_t *k, const void *data, size_t len)
{
	if (k->full || k->len + len > MX_VERDICT_KEY_MAXLEN) {
		k->full = true;
		return;
	}
	memcpy(k->buf + k->len, data, len);
	k->len += len;
}

static void key_u16(verdict_key_t *k, uint16_t value)
{
	key_put(k, &value, sizeof(value));
}

static void key_addr(verdict_key_t *k, const mx_addr_t *addr)
{
	uint8_t family = addr->family;
	key_put(k, &family, 1);
	key_put(k, addr->bytes, mx_addr_len(addr->family));
}

// An exchange's name: its place in the records when it is one of theirs.
static void key_name(verdict_key_t *k, const knot_rdataset_t *rrs, const knot_dname_t *name)
{
	const uint8_t *start = (const uint8_t *)rrs->rdata;
	if (name >= start && name < start + rrs->size) {
		key_u16(k, name - start);
		return;
	}
	key_u16(k, UINT16_MAX);
	key_put(k, name, knot_dname_size(name));
}

static void key_glue(verdict_key_t *k, const mx_rrset_view_t *view)
{
	uint8_t complete = view->glue_complete;
	key_put(k, &complete, 1);
	key_u16(k, view->glue_count);
	for (size_t i = 0; i < view->glue_count; i++) {
		key_name(k, view->rrs, view->glue[i].owner);
		key_addr(k, &view->glue[i].addr);
	}
}

/*** Exact lookups, made once per record and replayed to the rules. ***/

typedef struct {
	const knot_rdataset_t *rrs;
	mx_target_t *targets;  // per record
	const mx_scan_params_t *params;
	const mx_scan_query_t *query;
} replay_t;

static void replay(const knot_dname_t *exchange, mx_target_t *target, void *ctx)
{
	replay_t *r = ctx;
	knot_rdata_t *rd = r->rrs->rdata;
	for (uint16_t i = 0; i < r->rrs->count; i++, rd = knot_rdataset_next(rd)) {
		if (mx_rdata_ok(rd) && knot_mx_name(rd) == exchange) {
			*target = r->targets[i];
			return;
		}
	}
	r->params->lookup(exchange, target, r->query->lookup_ctx);
}

static bool look_up_all(replay_t *r, const knot_rrset_t *rr, verdict_key_t *k)
{
	const mx_scan_params_t *p = r->params;
	r->targets = mm_get(r->query->mm, (r->rrs->count + 1) * sizeof(*r->targets));
	if (r->targets == NULL) {
		return false;
	}
	knot_rdata_t *rd = r->rrs->rdata;
	for (uint16_t i = 0; i < r->rrs->count; i++, rd = knot_rdataset_next(rd)) {
		mx_target_t *t = &r->targets[i];
		memset(t, 0, sizeof(*t));
		if (!mx_rdata_ok(rd) || mx_rdata_is_null(rd)) {
			continue;
		}
		if (p->glue_target == NULL || !p->glue_target(rr, i, t, r->query->glue_ctx)) {
			p->lookup(knot_mx_name(rd), t, r->query->lookup_ctx);
		}
		uint8_t state = t->state;
		key_put(k, &state, 1);
		key_u16(k, t->addr_count);
		for (size_t j = 0; j < t->addr_count; j++) {
			key_addr(k, &t->addrs[j]);
		}
	}
	return true;
}

// The violations of a verdict, with the exchanges of these records (mostly
// in record order: one walk).
static void take_verdict(mx_scan_t *scan, const knot_rdataset_t *rrs,
                         const mx_verdict_t *verdict)
{
	unsigned count = verdict->count;
	if (count > scan->violation_cap - scan->violation_count) {
		count = scan->violation_cap - scan->violation_count;
	}
	mx_violation_t *v = scan->violations + scan->violation_count;
	memcpy(v, verdict->violations, count * sizeof(*v));
	scan->violation_count += count;
	knot_rdata_t *rd = rrs->rdata;
	uint16_t at = 0;
	for (unsigned i = 0; i < count; i++) {
		if (v[i].rr_index < at) {
			rd = rrs->rdata;
			at = 0;
		}
		for (; at < v[i].rr_index && at < rrs->count; at++) {
			rd = knot_rdataset_next(rd);
		}
		v[i].exchange = (at == v[i].rr_index) ? knot_mx_name(rd) : NULL;
	}
}

// The glue knotd holds (Knot 3.2), when the rules need it.
static bool get_glue(const mx_scan_params_t *p, const mx_scan_query_t *q,
                     const knot_rrset_t *rr, mx_rrset_view_t *view)
{
	if (p->lookup != NULL || p->glue_of == NULL) {
		return true;
	}
	return p->glue_of(rr, (mx_glue_t **)&view->glue, &view->glue_count,
	                  &view->glue_complete, q->glue_ctx);
}

// What is known of the exchanges, as the cache's key (all of it, or full).
static int exchanges_key(const mx_scan_params_t *p, const mx_scan_query_t *q,
                         const knot_rrset_t *rr,
                         mx_rrset_view_t *view, replay_t *r, verdict_key_t *key,
                         size_t max, bool *have_glue)
{
	if (p->lookup != NULL) {
		// Once per record, and replayed to the rules (also without a cache:
		// the same verdicts either way). Where knotd's glue list decides
		// every answer (Knot 3.2), the list itself is the key.
		verdict_key_t unused = { .full = true };
		if (!look_up_all(r, rr, p->glue_key != NULL ? &unused : key)) {
			return KNOT_ENOMEM;
		}
		view->lookup = replay;
		view->lookup_ctx = r;
	}
	if (p->lookup != NULL && p->glue_key == NULL) {
		return KNOT_EOK;
	}
	if (p->glue_key != NULL && !key->full) {
		int len = p->glue_key(rr, key->buf + key->len, max - key->len, q->glue_ctx);
		key->full = (len < 0);
		key->len += (len < 0) ? 0 : len;
	} else {
		if (!get_glue(p, q, rr, view)) {
			return KNOT_ENOMEM;
		}
		*have_glue = true;
		key_glue(key, view);
	}
	return KNOT_EOK;
}

// Whether pkt->rr[rr_pos]'s owner is written as a pointer to the question.
static bool owner_is_qname(const knot_pkt_t *pkt, uint16_t rr_pos)
{
	return pkt->rr_info[rr_pos].compress_ptr[KNOT_COMPR_HINT_OWNER] == KNOT_COMPR_HINT_QNAME &&
	       pkt->qname_size > 0;
}

// The owner of pkt->rr[rr_pos] as served, into \a buf unless it is the
// question's; its size, or 0 when not known (-1: cannot be read).
static int owner_of(const knot_pkt_t *pkt, uint16_t rr_pos, knot_dname_t *buf,
                    const knot_dname_t **owner)
{
	if (owner_is_qname(pkt, rr_pos)) {
		// Written as a pointer to the question: the name as the query spelt it.
		*owner = knot_pkt_wire_qname(pkt);
		return pkt->qname_size;
	}
	*owner = buf;
	return mx_wire_owner(pkt, rr_pos, buf) ? 0 : -1;
}

// A verdict found for the RRset, and whether it was made on the same
// exchanges as knotd holds them now (compared where they lie, or read so
// within the cache's max age).
typedef struct {
	bool found;
	bool current;
	mx_verdict_t verdict;
	uint64_t now;  // the cache's time, taken before anything was read
} cached_t;

// The cache's key of an RRset, the exchanges' part not yet set. A zone's
// instance needs no zone in it, and its owners all end in the zone's name.
static mx_verdict_key_t verdict_key(const mx_scan_params_t *p, const mx_scan_query_t *q,
                                    const knot_dname_t *owner,
                                    size_t owner_size, const knot_rdataset_t *rrs,
                                    uint64_t now)
{
	return (mx_verdict_key_t) {
		.zone = p->one_zone ? NULL : q->zone,
		.owner = owner,
		.owner_size = owner_size,
		.rrs = rrs,
		.owner_suffix = p->one_zone ? p->zone_size : 0,
		.now = now,
	};
}

// The RRset's verdict, if found; current when its exchanges' data was read
// within the cache's max age, or is, compared where it lies, the same now.
static inline __attribute__((always_inline))
void look_up_cached(const mx_scan_params_t *p, const mx_scan_query_t *q, const knot_pkt_t *pkt,
                    const knot_rrset_t *rr, const knot_dname_t *owner,
                    size_t owner_size, cached_t *c)
{
	mx_verdict_key_t vkey = verdict_key(p, q, owner, owner_size, &rr->rrs, c->now);
	if (owner == knot_pkt_wire_qname(pkt)) {
		// The question's name, which knotd keeps in lower case too.
		vkey.owner = knot_pkt_qname(pkt);
		vkey.owner_lower = true;
	}
	c->found = mx_verdict_cache_find(p->cache, &vkey, &c->verdict);
	if (!c->found || c->verdict.fresh) {
		c->current = c->found;
		return;
	}
	c->current = p->glue_equal != NULL &&
	             p->glue_equal(rr, c->verdict.extra, c->verdict.extra_len, q->glue_ctx);
	if (c->current) {
		mx_verdict_confirm(&c->verdict, c->now);
	}
}

static int judge(const mx_scan_params_t *p, const mx_scan_query_t *q, mx_scan_t *scan,
                 mx_scan_rrset_t *job,
                 const knot_rrset_t *rr, mx_rrset_view_t *view, size_t owner_size,
                 const cached_t *c)
{
	uint8_t buf[p->cache != NULL ? MX_VERDICT_KEY_MAXLEN : 1];
	verdict_key_t key = { .buf = buf, .full = (p->cache == NULL) };
	replay_t r = { .rrs = view->rrs, .params = p, .query = q };
	bool have_glue = false;
	int ret = exchanges_key(p, q, rr, view, &r, &key, sizeof(buf), &have_glue);
	if (ret != KNOT_EOK) {
		return ret;
	}
	if (c->found && !key.full && mx_verdict_made_on(&c->verdict, key.buf, key.len)) {
		mx_verdict_confirm(&c->verdict, c->now);
		take_verdict(scan, view->rrs, &c->verdict);
		job->cached = true;
		return KNOT_EOK;
	}
	if (!have_glue && !get_glue(p, q, rr, view)) {
		return KNOT_ENOMEM;
	}
	mx_check_rrset(view, p->policy, collect, scan);
	add_override(scan, p, job->owner, view->rrs);
	// Computed once with the verdict: a cached one has them already.
	for (unsigned i = job->first; i < scan->violation_count; i++) {
		mx_violation_t *v = &scan->violations[i];
		v->log_key = mx_log_key(p->log_seed, q->zone, job->owner, v->exchange,
		                        MX_LOG_VIOLATION, v->kind);
	}
	if (!key.full && scan->violation_count < scan->violation_cap) {
		mx_verdict_key_t vkey = verdict_key(p, q, job->owner, owner_size, view->rrs, c->now);
		vkey.extra = key.buf;
		vkey.extra_len = key.len;
		mx_verdict_cache_put(p->cache, &vkey, scan->violations + job->first,
		                     scan->violation_count - job->first);
	}
	return KNOT_EOK;
}

// The RRset's violations are in: its plan, unless nothing is rewritten.
static inline __attribute__((always_inline))
int planned(const knot_pkt_t *pkt, const mx_scan_params_t *p, mx_scan_t *scan,
            mx_scan_rrset_t *job, mx_action_t *record)
{
	const knot_rrset_t *rr = &pkt->rr[job->rr_pos];
	job->count = scan->violation_count - job->first;
	if (p->log_only) {
		job->rrsig_pos = -1;  // the plan changes nothing
		scan->count++;
		return KNOT_EOK;
	}
	mx_plan_init(&job->plan, &rr->rrs, record);
	for (unsigned v = job->first; v < scan->violation_count; v++) {
		const mx_violation_t *viol = &scan->violations[v];
		mx_action_t action = p->policy->action[viol->kind];
		// Only what is proven is enforced.
		if (viol->inferred && mx_action_rewrites(action)) {
			action = MX_ACTION_LOG;
		}
		mx_plan_add(&job->plan, viol, action);
	}
	find_rrsig(pkt, job);
	scan->count++;
	return KNOT_EOK;
}

static int scan_rrset(const knot_pkt_t *pkt, const mx_scan_params_t *p,
                      const mx_scan_query_t *q,
                      mx_scan_t *scan, uint16_t rr_pos, const knot_dname_t *owner,
                      size_t owner_size, const cached_t *cached, mx_action_t *record)
{
	const knot_rrset_t *rr = &pkt->rr[rr_pos];
	mx_scan_rrset_t *job = &scan->rrsets[scan->count];
	memset(job, 0, sizeof(*job));
	job->rr_pos = rr_pos;
	job->owner = (knot_dname_t *)owner;
	if (owner != knot_pkt_wire_qname(pkt)) {
		// Kept for the query's duration.
		size_t size = knot_dname_size(owner);
		job->owner = mm_get(q->mm, size);
		if (job->owner == NULL) {
			return KNOT_ENOMEM;
		}
		memcpy(job->owner, owner, size);
	}
	job->first = scan->violation_count;
	if (cached->current) {
		take_verdict(scan, &rr->rrs, &cached->verdict);
		job->cached = true;
		return planned(pkt, p, scan, job, record);
	}

	mx_rrset_view_t view = {
		.zone = q->zone,
		.owner = job->owner,
		.rrs = &rr->rrs,
		.lookup = p->lookup,
		.lookup_ctx = q->lookup_ctx,
	};
	int ret = judge(p, q, scan, job, rr, &view, owner_size, cached);
	if (ret != KNOT_EOK) {
		return ret;
	}
	return planned(pkt, p, scan, job, record);
}

// One allocation for the MX RRsets of the answer: violations, RRsets, then
// each record's action.
static int scan_alloc(mx_scan_t *scan, const knot_pkt_t *pkt, const mx_scan_query_t *q,
                      mx_action_t **record)
{
	const knot_pktsection_t *answer = knot_pkt_section(pkt, KNOT_ANSWER);
	unsigned rrsets = 0;
	unsigned records = 0;
	for (uint16_t i = 0; i < answer->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(answer, i);
		if (rr->type == KNOT_RRTYPE_MX) {
			rrsets++;
			records += rr->rrs.count;
		}
	}
	// At most one violation of each kind per record, one override per RRset.
	scan->violation_cap = records * MX_KIND_COUNT + rrsets;
	size_t violations = scan->violation_cap * sizeof(*scan->violations);
	size_t jobs = rrsets * sizeof(*scan->rrsets);
	uint8_t *mem = mm_get(q->mm, violations + jobs + records * sizeof(mx_action_t));
	if (mem == NULL) {
		return KNOT_ENOMEM;
	}
	scan->violations = (mx_violation_t *)mem;
	scan->rrsets = (mx_scan_rrset_t *)(mem + violations);
	*record = (mx_action_t *)(mem + violations + jobs);
	return KNOT_EOK;
}

// An RRset not told clean from the cache by mx_answer_scan(): its owner read
// from the wire unless it is the question's (then \a cached holds its
// lookup), and an entry unless it is clean after all. Apart, so that the
// common answer's frame stays small.
__attribute__((noinline))
static int scan_one(const knot_pkt_t *pkt, const mx_scan_params_t *params,
                    const mx_scan_query_t *query, mx_scan_t *scan,
                    uint16_t rr_pos, cached_t *cached, mx_action_t **record)
{
	const knot_rrset_t *rr = &pkt->rr[rr_pos];
	knot_dname_storage_t buf;
	const knot_dname_t *owner;
	int owner_size = owner_of(pkt, rr_pos, buf, &owner);
	if (owner_size < 0) {
		return KNOT_EMALF;
	}
	if (!owner_is_qname(pkt, rr_pos)) {
		look_up_cached(params, query, pkt, rr, owner, owner_size, cached);
		if (cached->current && cached->verdict.count == 0) {
			scan->clean++;
			return KNOT_EOK;
		}
	}
	if (scan->rrsets == NULL && scan_alloc(scan, pkt, query, record) != KNOT_EOK) {
		return KNOT_ENOMEM;
	}
	int ret = scan_rrset(pkt, params, query, scan, rr_pos, owner, owner_size, cached,
	                     *record);
	*record += rr->rrs.count;
	return ret;
}

int mx_answer_scan(const knot_pkt_t *pkt, const mx_scan_params_t *params,
                   const mx_scan_query_t *query, mx_scan_t *scan)
{
	memset(scan, 0, sizeof(*scan));
	const knot_pktsection_t *answer = knot_pkt_section(pkt, KNOT_ANSWER);
	mx_action_t *record = NULL;
	// Once per answer, before anything of the exchanges is read.
	uint64_t now = mx_verdict_cache_now(params->cache);
	for (uint16_t i = 0; i < answer->count; i++) {
		uint16_t rr_pos = answer->pos + i;
		const knot_rrset_t *rr = &pkt->rr[rr_pos];
		if (rr->type != KNOT_RRTYPE_MX) {
			continue;
		}
		// Judged clean before, on the same data: the common answer, told
		// without allocating anything.
		cached_t cached = { .now = now };
		if (owner_is_qname(pkt, rr_pos)) {
			look_up_cached(params, query, pkt, rr, knot_pkt_wire_qname(pkt), pkt->qname_size,
			               &cached);
			if (cached.current && cached.verdict.count == 0) {
				scan->clean++;
				continue;
			}
		}
		int ret = scan_one(pkt, params, query, scan, rr_pos, &cached, &record);
		if (ret != KNOT_EOK) {
			return ret;
		}
	}
	return KNOT_EOK;
}

bool mx_scan_changes(const mx_scan_t *scan)
{
	for (unsigned i = 0; i < scan->count; i++) {
		if (mx_plan_changes(&scan->rrsets[i].plan)) {
			return true;
		}
	}
	return false;
}
