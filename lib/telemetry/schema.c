// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* schema.c: the SysFlow v5 Avro schema, embedded at build time from
 * lib/telemetry/sysflow.avsc: character for character the text of AVSC_SF
 * in sysflow-telemetry/sf-apis c++/sysflow/avsc_sysflow5.hh (Apache-2.0),
 * which SysFlow's collector embeds. The Makefile turns the file into a C
 * string literal ($(BUILD)/sysflow_avsc.inc); `make install` installs the
 * same file as share/sysflow/sysflow.avsc. Readers find the union order
 * (the record type index) and the field order there.
 */
#include "telemetry_int.h"

const char tel_sysflow_schema[] =
#include "sysflow_avsc.inc"
	;
