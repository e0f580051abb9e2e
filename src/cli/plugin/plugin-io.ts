/** Where the plugin writes: stdout for results, stderr for errors and notes. */
export interface PluginIo {
  out(text: string): void;
  err(text: string): void;
}
