/**
 * Which QueueMigrations name which Deployments, so that a change to a Deployment enqueues the
 * migrations it takes part in. Kept from the QueueMigration watch.
 */
export class TargetIndex {
  private readonly byMigration = new Map<string, string[]>();

  /** `migration` is namespace/name; `deployments` are names in its namespace. */
  set(migration: string, deployments: readonly string[]): void {
    this.byMigration.set(migration, [...deployments]);
  }

  delete(migration: string): void {
    this.byMigration.delete(migration);
  }

  replaceAll(entries: readonly [string, readonly string[]][]): void {
    this.byMigration.clear();
    for (const [migration, deployments] of entries) this.set(migration, deployments);
  }

  /** Keys of the migrations that name `namespace/deployment`. */
  migrationsOf(namespace: string, deployment: string): string[] {
    return [...this.byMigration.entries()]
      .filter(([key, names]) => key.startsWith(`${namespace}/`) && names.includes(deployment))
      .map(([key]) => key);
  }
}
