// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_telemetry_avro.c: the SysFlow v5 schema text (the one in the library
 * is lib/telemetry/sysflow.avsc byte for byte) and the Avro encoding of
 * every record type, decoded again with libavro's generic reader
 * (union index, field order, null-first unions, fixed FOIDs), and an
 * object container file written and read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <avro.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include "telemetry/telemetry_int.h"

struct fixture {
	struct tel_avro *a;
	avro_schema_t schema;
	avro_value_iface_t *iface;
	avro_value_t out;
	char buf[65536];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(tel_avro_init(&f->a, 6), 0);
	assert_int_equal(avro_schema_from_json_length(tel_sysflow_schema,
						      strlen(tel_sysflow_schema),
						      &f->schema), 0);
	f->iface = avro_generic_class_from_schema(f->schema);
	assert_int_equal(avro_generic_value_new(f->iface, &f->out), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	avro_value_decref(&f->out);
	avro_value_iface_decref(f->iface);
	avro_schema_decref(f->schema);
	tel_avro_free(f->a);
	free(f);
	return 0;
}

/* Encode what was set, decode it; returns the branch of "rec". */
static int round_trip(struct fixture *f, avro_value_t *branch)
{
	avro_value_t rec;
	avro_reader_t r;
	int n = tel_avro_encode(f->a, f->buf, sizeof(f->buf)), idx;

	assert_true(n > 0);
	r = avro_reader_memory(f->buf, n);
	avro_value_reset(&f->out);
	assert_int_equal(avro_value_read(r, &f->out), 0);
	avro_reader_free(r);
	assert_int_equal(avro_value_get_by_index(&f->out, 0, &rec, NULL), 0);
	assert_int_equal(avro_value_get_current_branch(&rec, branch), 0);
	assert_int_equal(avro_value_get_discriminant(&rec, &idx), 0);
	/* the union index is the first varint (zigzag) of the record */
	assert_int_equal((unsigned char)f->buf[0], idx * 2);
	return idx;
}

static int64_t get_long(avro_value_t *r, const char *name)
{
	avro_value_t v;
	int64_t x;

	assert_int_equal(avro_value_get_by_name(r, name, &v, NULL), 0);
	assert_int_equal(avro_value_get_long(&v, &x), 0);
	return x;
}

static int32_t get_int(avro_value_t *r, const char *name)
{
	avro_value_t v;
	int32_t x;

	assert_int_equal(avro_value_get_by_name(r, name, &v, NULL), 0);
	assert_int_equal(avro_value_get_int(&v, &x), 0);
	return x;
}

static const char *get_str(avro_value_t *r, const char *name)
{
	avro_value_t v;
	const char *s;
	size_t n;

	assert_int_equal(avro_value_get_by_name(r, name, &v, NULL), 0);
	assert_int_equal(avro_value_get_string(&v, &s, &n), 0);
	return s;
}

/* the branch of a [null, X] field: 0 null, 1 value */
static int opt(avro_value_t *r, const char *name, avro_value_t *b)
{
	avro_value_t v;
	int d;

	assert_int_equal(avro_value_get_by_name(r, name, &v, NULL), 0);
	assert_int_equal(avro_value_get_discriminant(&v, &d), 0);
	assert_int_equal(avro_value_get_current_branch(&v, b), 0);
	return d;
}

static void test_schema_text(void **state)
{
	static const char want[] = "c1272a6bef6bd97b1b89737fbf5c9742742c7169";
	unsigned char md[20];
	char hex[41];
	unsigned int n;

	(void)state;
	/* SysFlow.avsc is 11,421 bytes; its SHA-1 pins the exact text */
	assert_int_equal(strlen(tel_sysflow_schema), 11421);
	EVP_Digest(tel_sysflow_schema, strlen(tel_sysflow_schema), md, &n,
		   EVP_sha1(), NULL);
	for (int i = 0; i < 20; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	assert_string_equal(hex, want);
}

/* The file `make install` installs and tests read, relative to the repo's
 * top directory, where tests/run starts the unit tests.
 */
#define AVSC_PATH "lib/telemetry/sysflow.avsc"

/* The library embeds lib/telemetry/sysflow.avsc: the same bytes, nothing
 * before, after or in between (a NUL in the file would end the string).
 */
static void test_schema_is_the_avsc_file(void **state)
{
	static char file[65536];
	FILE *f = fopen(AVSC_PATH, "r");
	size_t n;

	(void)state;
	if (!f)
		fail_msg("cannot open %s (run from the top directory): %m",
			 AVSC_PATH);
	n = fread(file, 1, sizeof(file), f);
	assert_int_equal(ferror(f), 0);
	assert_true(feof(f)); /* read to its end */
	fclose(f);
	assert_int_equal(strlen(tel_sysflow_schema), n);
	assert_memory_equal(tel_sysflow_schema, file, n);
}

static void test_header_and_entities(void **state)
{
	struct fixture *f = *state;
	struct sysflow_header h = { 5, "node1", "10.1.2.3", "/var/sf/1700" };
	struct sysflow_container c = { "c010f5a08549", "web", "nginx", "sha256:1",
				       SYSFLOW_CT_CRIO, true, NULL };
	const char *env[] = { "A=1", "PATH=/bin" };
	struct sysflow_process p = {
		.state = SYSFLOW_STATE_MODIFIED, .oid = { 1700000000000000001, 42 },
		.has_poid = true, .poid = { 0, 1 }, .ts = 17, .exe = "/bin/ls",
		.exe_args = "-l", .uid = 1000, .user_name = "u", .gid = 100,
		.group_name = "g", .tty = true, .container_id = "c010f5a08549",
		.entry = true, .cwd = "/tmp", .env = env, .env_count = 2,
	};
	struct sysflow_file file = { .state = SYSFLOW_STATE_CREATED, .ts = 5,
				     .restype = 'f', .path = "/etc/passwd" };
	avro_value_t b, o, v;
	size_t n;
	int en;

	assert_int_equal(tel_avro_set_header(f->a, &h), 0);
	assert_int_equal(round_trip(f, &b), SYSFLOW_REC_HEADER);
	assert_int_equal(get_long(&b, "version"), 5);
	assert_string_equal(get_str(&b, "filename"), "/var/sf/1700");

	assert_int_equal(tel_avro_set_container(f->a, &c), 0);
	assert_int_equal(round_trip(f, &b), SYSFLOW_REC_CONTAINER);
	assert_int_equal(avro_value_get_by_name(&b, "type", &v, NULL), 0);
	assert_int_equal(avro_value_get_enum(&v, &en), 0);
	assert_int_equal(en, SYSFLOW_CT_CRIO);
	assert_int_equal(opt(&b, "podId", &o), 0);

	assert_int_equal(tel_avro_set_process(f->a, &p), 0);
	assert_int_equal(round_trip(f, &b), SYSFLOW_REC_PROCESS);
	assert_int_equal(opt(&b, "poid", &o), 1);
	assert_int_equal(get_long(&o, "hpid"), 1);
	assert_int_equal(opt(&b, "containerId", &o), 1);
	assert_int_equal(get_int(&b, "uid"), 1000);
	assert_string_equal(get_str(&b, "cwd"), "/tmp");
	assert_int_equal(avro_value_get_by_name(&b, "env", &v, NULL), 0);
	assert_int_equal(avro_value_get_size(&v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(avro_value_get_by_name(&b, "state", &v, NULL), 0);
	assert_int_equal(avro_value_get_enum(&v, &en), 0);
	assert_int_equal(en, SYSFLOW_STATE_MODIFIED);

	tel_foid("", file.path, file.oid);
	assert_int_equal(tel_avro_set_file(f->a, &file), 0);
	assert_int_equal(round_trip(f, &b), SYSFLOW_REC_FILE);
	assert_int_equal(get_int(&b, "restype"), 'f');
	assert_int_equal(opt(&b, "containerId", &o), 0);
}

static void test_events_and_flows(void **state)
{
	struct fixture *f = *state;
	struct sysflow_record r = { .type = SYSFLOW_REC_NETWORK_FLOW };
	const char *args[] = { "nobody" };
	avro_value_t b, o, v;
	const void *fx;
	size_t n;

	r.nf = (struct sysflow_network_flow){
		.proc_oid = { 9, 10 }, .ts = 1, .tid = 11, .op_flags = 2880,
		.end_ts = 2, .sip = 16777343, .sport = 40000, .dip = 16777343,
		.dport = 80, .proto = 6, .fd = 4, .num_rrecv_ops = 1,
		.num_wsend_ops = 2, .num_rrecv_bytes = 500, .num_wsend_bytes = 1000,
	};
	assert_int_equal(tel_avro_set_record(f->a, &r), 0);
	assert_int_equal(round_trip(f, &b), SYSFLOW_REC_NETWORK_FLOW);
	assert_int_equal(get_int(&b, "sip"), 16777343); /* 127.0.0.1 */
	assert_int_equal(get_long(&b, "numWSendBytes"), 1000);
	assert_int_equal(get_int(&b, "opFlags"), 2880);

	r.type = SYSFLOW_REC_FILE_EVENT;
	memset(&r.fe, 0, sizeof(r.fe));
	r.fe.op_flags = SYSFLOW_OP_RENAME;
	r.fe.ret = -2;
	r.fe.has_new_file_oid = true;
	memset(r.fe.new_file_oid, 0xab, 20);
	assert_int_equal(tel_avro_set_record(f->a, &r), 0);
	assert_int_equal(round_trip(f, &b), SYSFLOW_REC_FILE_EVENT);
	assert_int_equal(get_int(&b, "ret"), -2);
	assert_int_equal(opt(&b, "newFileOID", &o), 1);
	assert_int_equal(avro_value_get_fixed(&o, &fx, &n), 0);
	assert_int_equal(n, 20);
	assert_int_equal(((const uint8_t *)fx)[19], 0xab);

	r.type = SYSFLOW_REC_PROCESS_EVENT;
	memset(&r.pe, 0, sizeof(r.pe));
	r.pe.op_flags = SYSFLOW_OP_SETUID;
	r.pe.args = args;
	r.pe.args_count = 1;
	assert_int_equal(tel_avro_set_record(f->a, &r), 0);
	assert_int_equal(round_trip(f, &b), SYSFLOW_REC_PROCESS_EVENT);
	assert_int_equal(avro_value_get_by_name(&b, "args", &v, NULL), 0);
	assert_int_equal(avro_value_get_size(&v, &n), 0);
	assert_int_equal(n, 1);

	r.type = SYSFLOW_REC_FILE_FLOW;
	memset(&r.ff, 0, sizeof(r.ff));
	r.ff.open_flags = 4097;
	r.ff.num_rrecv_ops = 3;
	assert_int_equal(tel_avro_set_record(f->a, &r), 0);
	assert_int_equal(round_trip(f, &b), SYSFLOW_REC_FILE_FLOW);
	assert_int_equal(get_int(&b, "openFlags"), 4097);
	assert_int_equal(get_long(&b, "numRRecvOps"), 3);

	/* ProcessFlow: opFlags is the 4th field, after numThreadsCloned */
	r.type = SYSFLOW_REC_PROCESS_FLOW;
	memset(&r.pf, 0, sizeof(r.pf));
	r.pf.num_threads_cloned = 7;
	r.pf.op_flags = SYSFLOW_OP_CLONE;
	assert_int_equal(tel_avro_set_record(f->a, &r), 0);
	assert_int_equal(round_trip(f, &b), SYSFLOW_REC_PROCESS_FLOW);
	assert_int_equal(avro_value_get_by_index(&b, 2, &v, NULL), 0);
	assert_int_equal(get_long(&b, "numThreadsCloned"), 7);
	assert_int_equal(avro_value_get_by_index(&b, 3, &v, NULL), 0);
	assert_int_equal(get_int(&b, "opFlags"), SYSFLOW_OP_CLONE);
}

static void test_container_file(void **state)
{
	struct fixture *f = *state;
	struct sysflow_header h = { 5, "n", "", "" };
	struct sysflow_error err = {};
	struct tel_avro_file *af;
	avro_file_reader_t rd;
	avro_schema_t ws;
	avro_value_iface_t *wi;
	avro_value_t v, rec;
	char dir[] = "/tmp/sf-avro-XXXXXX", spec[64], path[256];
	int count = 0, idx, e;

	assert_non_null(mkdtemp(dir));
	snprintf(spec, sizeof(spec), "%s/", dir);
	assert_int_equal(tel_avro_file_open(&af, f->a, spec, 1700000000, path,
					    sizeof(path), &err), 0);
	snprintf(spec, sizeof(spec), "%s/1700000000", dir);
	assert_string_equal(path, spec);
	assert_int_equal(tel_avro_set_header(f->a, &h), 0);
	assert_int_equal(tel_avro_file_append(af), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(tel_avro_file_append(af), 0);
	assert_int_equal(tel_avro_file_error(af), 0);
	assert_int_equal(tel_avro_file_close(af, &e), 0);
	assert_int_equal(e, 0);

	assert_int_equal(avro_file_reader(path, &rd), 0);
	ws = avro_file_reader_get_writer_schema(rd);
	wi = avro_generic_class_from_schema(ws);
	assert_int_equal(avro_generic_value_new(wi, &v), 0);
	while (avro_file_reader_read_value(rd, &v) == 0) {
		assert_int_equal(avro_value_get_by_index(&v, 0, &rec, NULL), 0);
		assert_int_equal(avro_value_get_discriminant(&rec, &idx), 0);
		assert_int_equal(idx, SYSFLOW_REC_HEADER);
		count++;
	}
	assert_int_equal(count, 1001);
	avro_value_decref(&v);
	avro_value_iface_decref(wi);
	avro_schema_decref(ws);
	avro_file_reader_close(rd);

	/* a second file in the same second gets a suffix, not the same name */
	snprintf(spec, sizeof(spec), "%s/pre", dir);
	assert_int_equal(tel_avro_file_open(&af, f->a, spec, 1700000000, path,
					    sizeof(path), &err), 0);
	assert_int_equal(tel_avro_file_append(af), 0);
	tel_avro_file_close(af, &e);
	assert_int_equal(tel_avro_file_open(&af, f->a, spec, 1700000000, path,
					    sizeof(path), &err), 0);
	tel_avro_file_close(af, &e);
	snprintf(spec, sizeof(spec), "%s/pre.1700000000.1", dir);
	assert_string_equal(path, spec);
	assert_int_equal(access(path, F_OK), -1); /* no record: removed */
	snprintf(spec, sizeof(spec), "%s/pre.1700000000", dir);
	assert_int_equal(access(spec, F_OK), 0);
	assert_int_not_equal(tel_avro_file_open(&af, f->a, "/proc/nope/", 1, path,
						sizeof(path), &err), 0);
	assert_int_equal(err.code, SYSFLOW_ERROR_READING_FILESYSTEM);
	assert_non_null(strstr(err.message, "/proc/nope/1"));
	snprintf(spec, sizeof(spec), "rm -rf %s", dir);
	assert_int_equal(system(spec), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_text),
		cmocka_unit_test(test_schema_is_the_avsc_file),
		cmocka_unit_test_setup_teardown(test_header_and_entities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_and_flows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_container_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
