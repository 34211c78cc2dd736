/**
 * TLS audit: nmap's `ssl-enum-ciphers` script against a real `chat serve`.
 * The server must offer only TLS 1.2/1.3, only AEAD suites, forward secret
 * key exchange, no compression, and nmap must grade everything A. Needs the
 * Debian package `nmap` (`.ci/run` installs it); without it the test fails.
 */
import { assert } from "../shared/_test_assert.ts";
import { ServerProcess } from "./_harness.ts";

/** Give up on the scan after this long (a local scan takes under a second). */
const SCAN_TIMEOUT = "45s";

/** One NSE structured-output table: keyed and unkeyed entries, in order. */
type NseTable = { entries: { key?: string; value: NseValue }[] };
type NseValue = string | NseTable;

Deno.test("the server offers only TLS 1.2/1.3 with forward-secret AEAD suites, all graded A", async () => {
  await using server = await ServerProcess.start();
  const args = [
    "-Pn",
    "-sT",
    "--script",
    "ssl-enum-ciphers",
    "-p",
    String(server.port),
    "--host-timeout",
    SCAN_TIMEOUT,
    "-oX",
    "-",
    "127.0.0.1",
  ];
  const scan = await runNmap(args);
  const report = `nmap ${args.join(" ")} exited ${scan.code}\n` +
    `stdout:\n${scan.stdout}\nstderr:\n${scan.stderr}`;
  assert(scan.code === 0, report);

  const script = findScript(scan.stdout, "ssl-enum-ciphers");
  assert(
    script !== undefined,
    `nmap found no TLS at all on ${server.address}\n${report}`,
  );
  const problems: string[] = [];

  const protocols = script.entries.filter((e) => e.key !== "least strength");
  const versions = protocols.map((e) => e.key ?? "(unnamed)");
  for (const version of versions) {
    if (version !== "TLSv1.2" && version !== "TLSv1.3") {
      problems.push(`offers ${version}`);
    }
  }
  if (!versions.includes("TLSv1.2") && !versions.includes("TLSv1.3")) {
    problems.push("offers neither TLSv1.2 nor TLSv1.3");
  }

  let cipherCount = 0;
  for (const { key: version, value } of protocols) {
    const protocol = asTable(value);
    for (const cipher of asTable(field(protocol, "ciphers")).entries) {
      cipherCount++;
      const suite = asTable(cipher.value);
      const name = String(field(suite, "name"));
      const strength = field(suite, "strength");
      const where = `${version} ${name} (${field(suite, "kex_info")})`;
      if (!isAead(name)) problems.push(`${where}: not an AEAD suite`);
      if (version !== "TLSv1.3" && !/^TLS_(ECDHE|DHE)_/.test(name)) {
        problems.push(`${where}: key exchange is not forward secret`);
      }
      if (strength !== "A") problems.push(`${where}: graded ${strength}`);
    }
    const compressors = field(protocol, "compressors");
    if (compressors !== undefined) {
      const names = asTable(compressors).entries.map((e) => e.value);
      if (names.some((c) => c !== "NULL")) {
        problems.push(`${version}: compression offered (${names})`);
      }
    }
    const warnings = field(protocol, "warnings");
    if (warnings !== undefined) {
      for (const w of asTable(warnings).entries) {
        problems.push(`${version}: nmap warns: ${w.value}`);
      }
    }
  }
  if (cipherCount === 0) problems.push("nmap listed no cipher suites");
  const least = field(script, "least strength");
  if (least !== "A") problems.push(`least strength is ${least}, not A`);

  assert(
    problems.length === 0,
    `TLS audit failed:\n  ${problems.join("\n  ")}\n${report}`,
  );
});

/** Run nmap; a missing nmap is a failure with the fix, never a skip. */
async function runNmap(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("nmap", {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        "nmap is not installed; install nmap: apt-get install -y nmap; " +
          ".ci/run does this",
        { cause: error },
      );
    }
    throw error;
  }
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** AEAD: AES-GCM or ChaCha20-Poly1305 (TLS 1.3 suites are all AEAD). */
function isAead(name: string): boolean {
  return /_GCM_|_CHACHA20_POLY1305_/.test(name) ||
    /^TLS_(AKE_WITH_)?(AES_\d+_GCM|CHACHA20_POLY1305)_/.test(name);
}

/** The value under `key` in a table, if there is one. */
function field(table: NseTable, key: string): NseValue | undefined {
  return table.entries.find((e) => e.key === key)?.value;
}

function asTable(value: NseValue | undefined): NseTable {
  if (value === undefined || typeof value === "string") {
    throw new Error(`expected an nmap table, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * The structured output of one NSE script in nmap's XML (`-oX -`): nested
 * `<table key=..>` and `<elem key=..>text</elem>` inside `<script id=..>`.
 * Undefined when the script produced nothing (no TLS found).
 */
function findScript(xml: string, id: string): NseTable | undefined {
  const start = xml.indexOf(`<script id="${id}"`);
  if (start < 0) return undefined;
  const open = xml.indexOf(">", start);
  const end = xml.indexOf("</script>", open);
  if (open < 0 || end < 0) return undefined;
  if (xml[open - 1] === "/") return { entries: [] };

  const root: NseTable = { entries: [] };
  const stack: NseTable[] = [root];
  const tag =
    /<(\/?)(table|elem)((?:\s+[\w-]+="[^"]*")*)\s*(\/?)>|([^<]+)|(<[^>]*>)/g;
  let elem: { named: { key?: string }; text: string } | undefined;
  for (const m of xml.slice(open + 1, end).matchAll(tag)) {
    const [, closing, name, attrs, selfClosing, text, other] = m;
    const top = stack[stack.length - 1]!;
    if (text !== undefined) {
      if (elem) elem.text += decodeXml(text);
    } else if (other !== undefined) {
      throw new Error(`unexpected XML in nmap output: ${other}`);
    } else if (name === "elem" && !closing) {
      if (selfClosing) top.entries.push({ ...keyOf(attrs), value: "" });
      else elem = { named: keyOf(attrs), text: "" };
    } else if (name === "elem") {
      if (elem) top.entries.push({ ...elem.named, value: elem.text });
      elem = undefined;
    } else if (!closing) {
      const table: NseTable = { entries: [] };
      top.entries.push({ ...keyOf(attrs), value: table });
      if (!selfClosing) stack.push(table);
    } else {
      stack.pop();
    }
  }
  return root;
}

/** `{ key }` from a tag's attributes when it has `key="..."`, else `{}`. */
function keyOf(attrs: string | undefined): { key?: string } {
  const m = /\bkey="([^"]*)"/.exec(attrs ?? "");
  return m ? { key: decodeXml(m[1]!) } : {};
}

function decodeXml(text: string): string {
  return text.replace(
    /&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g,
    (_, entity: string) => {
      if (entity.startsWith("#x")) {
        return String.fromCodePoint(parseInt(entity.slice(2), 16));
      }
      if (entity.startsWith("#")) {
        return String.fromCodePoint(parseInt(entity.slice(1), 10));
      }
      return { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" }[entity]!;
    },
  );
}
