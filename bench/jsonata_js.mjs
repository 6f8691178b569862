// The JavaScript side of the JSONata benchmark: the reference implementation (npm jsonata),
// run by the harness as its own process on core 0.
//
//   node jsonata_js.mjs DATA SECONDS WARMUP RESULTS
//
// Every transform of jsonata_transforms.json on the document in DATA, exactly as the Python
// side does it: compile once, warm up, then evaluate in a loop (the best of 3 rounds of
// SECONDS / 3, each at least one evaluation). Prints one JSON object (engine, transform →
// evaluations/s) and writes each transform's result to RESULTS for the comparison with the
// Python side.
import { readFileSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import jsonata from "jsonata";

const ROUNDS = 3; // the measured seconds in equal rounds; the best round counts
const here = new URL(".", import.meta.url);
const transforms = JSON.parse(readFileSync(new URL("jsonata_transforms.json", here), "utf8"));
const version = JSON.parse(
  readFileSync(new URL("node_modules/jsonata/package.json", here), "utf8"),
).version;
// The call context a function's expressions see as $ctx (the same as jsonata_cases.CONTEXT).
const ctx = {
  parameters: { status: "open", $top: 50 },
  user: { id: "user-bench", email: "owner@bench.authgate.test", displayName: "Bench" },
  solution: { id: "solution-bench", name: "bench", organizationId: "org-bench" },
};

const [data, seconds, warmup, results] = process.argv.slice(2);
const document = JSON.parse(readFileSync(data, "utf8"));

async function loop(expression, duration) {
  let count = 0;
  const start = performance.now();
  const end = start + duration * 1000;
  while (count < 1 || performance.now() < end) {
    await expression.evaluate(document, { ctx });
    count += 1;
  }
  return count / ((performance.now() - start) / 1000);
}

// The best of ROUNDS rounds: a burst of other load on the core hits one round.
async function best(expression, duration) {
  let rate = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    rate = Math.max(rate, await loop(expression, duration / ROUNDS));
  }
  return rate;
}

const rates = {};
const outputs = {};
for (const [name, text] of Object.entries(transforms)) {
  const expression = jsonata(text);
  outputs[name] = (await expression.evaluate(document, { ctx })) ?? null;
  await loop(expression, Number(warmup));
  rates[name] = await best(expression, Number(seconds));
}
writeFileSync(results, JSON.stringify(outputs));
console.log(JSON.stringify({ engine: `jsonata ${version} (npm)`, per_second: rates }));
