import type { WrittenTableFile } from '../../protocol/cluster/messages.js';
import type { ClusterClient } from '../cluster/ClusterClient.js';
import type { RemoteTableWriter } from '../storage/TableStorage.js';

/**
 * Table writes as cluster queries of load tasks (TaskDefinition.load): each worker that claims a task
 * writes its files and answers with their list. A worker that dies mid-write has its task run again
 * elsewhere, into another attempt folder; the storage keeps only the succeeded attempts' files.
 */
export function remoteTableWriter(client: ClusterClient): RemoteTableWriter {
  return async (tasks, load) => {
    const run = client.runQuery(tasks.map((t) => ({ sql: t.sql, partition: { files: [...t.files] }, load })));
    const written: WrittenTableFile[] = [];
    for await (const { batch } of run) {
      const column = batch.getChild('written');
      if (!column) throw new Error('a table write answered without its file list');
      for (let i = 0; i < batch.numRows; i++) {
        written.push(...(JSON.parse(String(column.get(i))) as WrittenTableFile[]));
      }
    }
    return written;
  };
}
