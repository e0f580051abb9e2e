/**
 * Kubernetes `$(VAR)` expansion, as the kubelet applies it to env values, commands and args
 * (k8s.io/kubernetes third_party/forked/golang/expansion): `$$` is an escaped `$`, `$(NAME)`
 * becomes the value of NAME when it is defined and stays as written otherwise, and any other `$`
 * is kept literally.
 */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance: number;
    if (rest.startsWith('$')) {
      out += '$';
      advance = 1;
    } else if (rest.startsWith('(')) {
      const close = rest.indexOf(')');
      if (close === -1) {
        out += '$' + rest;
        advance = rest.length;
      } else {
        const name = rest.slice(1, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close + 1;
      }
    } else {
      out += '$' + rest.slice(0, 1);
      advance = 1;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}
