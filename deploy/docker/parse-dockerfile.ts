/** One Dockerfile instruction: its keyword (upper case), `--flag=value` options, and arguments. */
export type DockerInstruction = {
  keyword: string;
  flags: Record<string, string>;
  /** Exec form (JSON array) when the instruction used it, else undefined. */
  exec: string[] | undefined;
  /** The argument text after the flags, continuation lines joined. */
  text: string;
  line: number;
};

export class DockerfileSyntaxError extends Error {
  override name = 'DockerfileSyntaxError' as const;
  readonly code = 'dockerfile_syntax' as const;
}

const KEYWORDS = new Set([
  'FROM', 'RUN', 'CMD', 'LABEL', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG',
  'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL', 'MAINTAINER',
]);

/**
 * Splits a Dockerfile into its instructions as BuildKit's frontend reads them: `#` comment lines (parser directives
 * included) are dropped, a trailing backslash continues the instruction, leading `--name=value` options become flags,
 * and a JSON array argument is the exec form. Only the syntax the tests judge; not a build.
 */
export function parseDockerfile(source: string): DockerInstruction[] {
  const out: DockerInstruction[] = [];
  const lines = source.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i]!.trim();
    if (first === '' || first.startsWith('#')) continue;
    const start = i + 1;
    let text = lines[i]!.trimEnd();
    let continued = text.endsWith('\\');
    if (continued) text = text.slice(0, -1);
    while (continued) {
      i++;
      if (i >= lines.length) throw new DockerfileSyntaxError(`line ${start}: continuation runs past the end of the file`);
      const next = lines[i]!.trimEnd();
      // Comment lines inside a continued instruction are dropped and do not end it.
      if (next.trim().startsWith('#')) continue;
      continued = next.endsWith('\\');
      text += ` ${continued ? next.slice(0, -1) : next}`;
    }
    const match = /^\s*(\S+)\s*(.*)$/s.exec(text)!;
    const keyword = match[1]!.toUpperCase();
    if (!KEYWORDS.has(keyword)) throw new DockerfileSyntaxError(`line ${start}: unknown instruction ${match[1]}`);
    let rest = match[2]!.trim();
    const flags: Record<string, string> = {};
    for (let flag = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest); flag; flag = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest)) {
      flags[flag[1]!] = flag[2] ?? 'true';
      rest = rest.slice(flag[0].length);
    }
    // HEALTHCHECK carries its own instruction: `CMD [...]` after the flags.
    const body = keyword === 'HEALTHCHECK' ? rest.replace(/^CMD\s+/i, '') : rest;
    let exec: string[] | undefined;
    if (body.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(body);
        if (Array.isArray(parsed) && parsed.every((s) => typeof s === 'string')) exec = parsed;
      } catch {
        // not JSON: shell form that happens to start with "[" (Docker treats it the same way)
      }
    }
    out.push({ keyword, flags, exec, text: rest, line: start });
  }
  return out;
}

/** The stages of a parsed Dockerfile: each FROM starts one; `ARG`s before the first FROM are global. */
export function dockerStages(instructions: DockerInstruction[]): { from: DockerInstruction; name: string | undefined; body: DockerInstruction[] }[] {
  const stages: { from: DockerInstruction; name: string | undefined; body: DockerInstruction[] }[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const name = /\s+AS\s+(\S+)$/i.exec(ins.text)?.[1];
      stages.push({ from: ins, name, body: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.body.push(ins);
    }
  }
  return stages;
}
