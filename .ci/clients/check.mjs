// The service as real clients see it (issue 14), against a running instance:
//   node .ci/clients/check.mjs URL TOKEN SDL_FILE OPERATIONS_GLOB
// 1. graphql-js sends the standard introspection query (the one GraphiQL and Apollo send) with
//    the token; the schema it builds equals the published SDL (schema/schema.graphql), with no
//    breaking or dangerous difference either way.
// 2. graphql-request runs a query and gets typed data, and an error with extensions.code.
// 3. graphql-codegen generates TypeScript types from the URL (the token in a header) for the
//    benchmark's operations, with no errors.
import { readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  buildClientSchema,
  buildSchema,
  findBreakingChanges,
  findDangerousChanges,
  getIntrospectionQuery,
  specifiedDirectives,
  lexicographicSortSchema,
  printSchema,
} from "graphql";
import { GraphQLClient, ClientError } from "graphql-request";
import { generate } from "@graphql-codegen/cli";

const [url, token, sdlFile, operations] = process.argv.slice(2);
if (!url || !token || !sdlFile || !operations) {
  console.error("usage: check.mjs URL TOKEN SDL_FILE OPERATIONS_GLOB");
  process.exit(2);
}
const auth = { Authorization: `Bearer ${token}` };
const fail = (message) => {
  console.error(`real clients: ${message}`);
  process.exit(1);
};

// 1. Introspection with graphql-js's own query, compared with the published SDL.
const response = await fetch(url, {
  method: "POST",
  headers: { "Content-Type": "application/json", ...auth },
  body: JSON.stringify({ query: getIntrospectionQuery({ descriptions: true, specifiedByUrl: true }) }),
});
const body = await response.json();
if (body.errors) fail(`introspection answered errors: ${JSON.stringify(body.errors)}`);
const served = lexicographicSortSchema(buildClientSchema(body.data));
const published = lexicographicSortSchema(buildSchema(readFileSync(sdlFile, "utf8")));
// The built-in directives (@deprecated, @skip, ...) are graphql-js's own on one side and the
// server's on the other; versions of graphql-js differ in their locations, so they are not ours
// to compare.
const builtIn = new Set(specifiedDirectives.map((d) => d.name));
const ours = (change) => !(change.type.startsWith("DIRECTIVE_") && [...builtIn].some((name) => change.description.endsWith(` ${name}.`) || change.description.startsWith(`${name} `)));
const differences = [
  ...findBreakingChanges(published, served),
  ...findDangerousChanges(published, served),
  ...findBreakingChanges(served, published),
  ...findDangerousChanges(served, published),
].filter(ours);
if (differences.length > 0) {
  fail(`the served schema differs from ${sdlFile}:\n${differences.map((d) => `  ${d.type}: ${d.description}`).join("\n")}`);
}
if (printSchema(served) !== printSchema(published)) {
  fail(`the served schema prints differently from ${sdlFile} (descriptions or order)`);
}
const types = Object.keys(served.getTypeMap()).length;
console.log(`graphql-js: introspection matches ${sdlFile} (${types} types)`);

// 2. graphql-request: data, and a coded error.
const client = new GraphQLClient(url, { headers: auth });
const data = await client.request("{ me { role } units(first: 2) { totalCount nodes { creditCode } } }");
if (typeof data.units?.totalCount !== "number") fail(`graphql-request: unexpected ${JSON.stringify(data)}`);
try {
  await client.request('{ unitByCreditCode(creditCode: "not a code") { id } }');
  fail("graphql-request: a bad credit code was accepted");
} catch (error) {
  if (!(error instanceof ClientError)) throw error;
  const code = error.response.errors?.[0]?.extensions?.code;
  if (code !== "BAD_USER_INPUT") fail(`graphql-request: expected BAD_USER_INPUT, got ${JSON.stringify(error.response)}`);
}
console.log(`graphql-request: ${data.units.totalCount} units readable; a bad credit code is BAD_USER_INPUT`);

// 3. graphql-codegen from the URL. It finds its plugins from the working directory: ours.
const documents = resolve(operations);
process.chdir(dirname(fileURLToPath(import.meta.url)));
const out = join(mkdtempSync(join(tmpdir(), "codegen-")), "types.ts");
await generate(
  {
    schema: { [url]: { headers: auth } },
    documents,
    generates: { [out]: { plugins: ["typescript", "typescript-operations"] } },
    silent: true,
    errorsOnly: true,
  },
  true,
);
const generated = readFileSync(out, "utf8");
for (const name of ["Q1Query", "Q2Query", "M1Mutation"]) {
  if (!generated.includes(`export type ${name} =`)) fail(`graphql-codegen: no ${name} in ${out}`);
}
console.log(`graphql-codegen: ${generated.length} characters of types for ${operations}`);
