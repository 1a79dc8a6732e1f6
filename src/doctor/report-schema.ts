import { Type, type Static } from '@sinclair/typebox';

/**
 * The shape of `cliproxyapi doctor --json`: one JSON document on stdout, nothing else. The same
 * schema is published as docs/doctor-report.schema.json (a test keeps the two equal and validates
 * real reports against it), so a pipeline can validate what it parses. Adding a field is a minor
 * change; `schema_version` changes when a field is removed or changes meaning.
 */
export const doctorSchemaVersion = 1;

const CheckStatusSchema = Type.Union([Type.Literal('pass'), Type.Literal('warn'), Type.Literal('fail'), Type.Literal('skip')]);

const CheckResultSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z][a-z0-9-]*$', description: 'stable check id, listed in docs/doctor.md' }),
    status: CheckStatusSchema,
    message: Type.String({ minLength: 1, description: 'what was found, one line' }),
    fix: Type.Optional(Type.String({ minLength: 1, description: 'what to do; present for warn, fail and (where useful) skip' })),
    details: Type.Optional(Type.Array(Type.String(), { description: 'one line per problem, each with its own fix where it has one' })),
  },
  { additionalProperties: false },
);

export const DoctorReportSchema = Type.Object(
  {
    schema_version: Type.Literal(doctorSchemaVersion),
    tool: Type.Literal('cliproxyapi doctor'),
    version: Type.String({ description: 'the cliproxyapi version that ran the checks' }),
    generated_at: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$', description: 'ISO 8601, UTC' }),
    config: Type.Union([Type.String(), Type.Null()], { description: 'absolute path of the config checked; null for the built-in default' }),
    strict: Type.Boolean({ description: 'true with --strict: a warning fails the run' }),
    summary: Type.Object(
      { pass: Type.Integer({ minimum: 0 }), warn: Type.Integer({ minimum: 0 }), fail: Type.Integer({ minimum: 0 }), skip: Type.Integer({ minimum: 0 }) },
      { additionalProperties: false },
    ),
    ok: Type.Boolean({ description: 'false when the exit code is non-zero' }),
    exit_code: Type.Union([Type.Literal(0), Type.Literal(1)]),
    checks: Type.Array(CheckResultSchema),
  },
  { additionalProperties: false, $id: 'doctor-report.schema.json', title: 'cliproxyapi doctor --json report' },
);

export type DoctorReport = Static<typeof DoctorReportSchema>;
