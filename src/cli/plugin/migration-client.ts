import type { MigrationObject } from '../../operator/controller/migration-object.ts';
import { KIND } from '../../operator/api/names.ts';
import { CONTENT_TYPES, type KubeApi } from '../../operator/kube/kube-api.ts';
import { KubeApiError } from '../../operator/kube/kube-api-error.ts';
import { paths } from '../../operator/kube/resource-paths.ts';
import { PluginError } from './plugin-error.ts';

export interface ObjectRef {
  namespace: string;
  name: string;
}

interface SecretObject {
  data?: Record<string, string>;
}

/** A refusal of the API server, told in terms of the object the user named. */
export function explainApiError(error: unknown, verb: string, kind: string, ref: ObjectRef): PluginError {
  const object = `${kind} "${ref.name}" in namespace "${ref.namespace}"`;
  if (!(error instanceof KubeApiError)) {
    return new PluginError('PLUGIN_API_FAILED', `cannot ${verb} ${object}: ${String(error)}`, {
      cause: error,
    });
  }
  switch (error.code) {
    case 'KUBE_API_NOT_FOUND':
      return new PluginError('PLUGIN_NOT_FOUND', `${object} not found`, { cause: error });
    case 'KUBE_API_FORBIDDEN':
      return new PluginError('PLUGIN_FORBIDDEN', `forbidden to ${verb} ${object}: ${error.message}`, {
        cause: error,
      });
    default:
      return new PluginError('PLUGIN_API_FAILED', `cannot ${verb} ${object}: ${error.message}`, {
        cause: error,
      });
  }
}

/** The QueueMigrations and Secrets the plugin reads and changes, with errors that name them. */
export class MigrationClient {
  private readonly api: KubeApi;

  constructor(api: KubeApi) {
    this.api = api;
  }

  async get(ref: ObjectRef): Promise<MigrationObject> {
    try {
      return await this.api.request<MigrationObject>('GET', paths.migration(ref.namespace, ref.name));
    } catch (error) {
      throw explainApiError(error, 'get', KIND, ref);
    }
  }

  /** Every QueueMigration of a namespace, or of all of them when `namespace` is undefined. */
  async list(namespace: string | undefined): Promise<MigrationObject[]> {
    try {
      const list = await this.api.request<{ items?: MigrationObject[] }>('GET', paths.migrations(namespace));
      return list.items ?? [];
    } catch (error) {
      if (error instanceof KubeApiError && error.code === 'KUBE_API_FORBIDDEN') {
        const where = namespace === undefined ? 'in any namespace' : `in namespace "${namespace}"`;
        throw new PluginError(
          'PLUGIN_FORBIDDEN',
          `forbidden to list QueueMigrations ${where}: ${error.message}`,
          {
            cause: error,
          },
        );
      }
      throw new PluginError('PLUGIN_API_FAILED', `cannot list QueueMigrations: ${String(error)}`, {
        cause: error,
      });
    }
  }

  /** A JSON merge patch of the object (not its status): only the fields in `patch` change. */
  async mergePatch(ref: ObjectRef, patch: object): Promise<MigrationObject> {
    try {
      return await this.api.request<MigrationObject>('PATCH', paths.migration(ref.namespace, ref.name), {
        body: patch,
        contentType: CONTENT_TYPES.mergePatch,
      });
    } catch (error) {
      throw explainApiError(error, 'patch', KIND, ref);
    }
  }

  /** One key of a Secret, decoded; `purpose` says which field of the QueueMigration refers to it. */
  async secretValue(namespace: string, ref: { name: string; key: string }, purpose: string): Promise<Buffer> {
    let secret: SecretObject;
    try {
      secret = await this.api.request<SecretObject>(
        'GET',
        `/api/v1/namespaces/${namespace}/secrets/${ref.name}`,
      );
    } catch (error) {
      throw explainApiError(error, `get (for ${purpose})`, 'Secret', { namespace, name: ref.name });
    }
    const encoded = secret.data?.[ref.key];
    if (encoded === undefined) {
      throw new PluginError(
        'PLUGIN_SECRET_KEY',
        `Secret "${ref.name}" in namespace "${namespace}" has no key "${ref.key}" (referenced by ${purpose})`,
      );
    }
    return Buffer.from(encoded, 'base64');
  }
}
