/**
 * Import cycles in the project's module graph, from `deno info --json`:
 * `deno task cycles` prints each cycle and exits 1 if there is one. The
 * test beside it checks main.ts's graph and the bench's.
 * @module
 */

/** module → the local modules it imports. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/** Every cycle reachable in `graph`, each as the modules along it (first repeated last). */
export function findCycles(graph: ImportGraph): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (module: string): void => {
    state.set(module, "open");
    stack.push(module);
    for (const next of graph.get(module) ?? []) {
      if (state.get(next) === "open") {
        cycles.push([...stack.slice(stack.indexOf(next)), next]);
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    state.set(module, "done");
  };
  for (const module of graph.keys()) if (!state.has(module)) visit(module);
  return cycles;
}

interface InfoModule {
  specifier: string;
  dependencies?: {
    code?: { specifier?: string };
    type?: { specifier?: string };
  }[];
}

/** The local (file:) import graph of `entry`, read from `deno info --json`. */
export async function importGraph(entry: string): Promise<ImportGraph> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `deno info failed: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: InfoModule[];
  };
  const graph = new Map<string, string[]>();
  for (const m of info.modules) {
    if (!m.specifier.startsWith("file:")) continue;
    const deps = (m.dependencies ?? []).flatMap((d) =>
      [d.code?.specifier, d.type?.specifier].filter((s): s is string =>
        s?.startsWith("file:") ?? false
      )
    );
    graph.set(m.specifier, [...new Set(deps)]);
  }
  return graph;
}

if (import.meta.main) {
  let found = 0;
  for (const entry of Deno.args.length ? Deno.args : ["main.ts"]) {
    for (const cycle of findCycles(await importGraph(entry))) {
      found++;
      console.log(`cycle: ${cycle.map((m) => m.split("/").pop()).join(" → ")}`);
    }
  }
  console.log(found ? `${found} import cycle(s)` : "no import cycles");
  if (found) Deno.exit(1);
}
