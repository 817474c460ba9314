/**
 * The child process of `CeilingProcess` (ceiling.ts): bare sharp under whatever allocator
 * environment it was started with, answering each job list with what it took. A failure ends the
 * process, which the parent reports.
 */
import { runCeiling, type CeilingRequest } from './ceiling';

process.on('message', (request: CeilingRequest) => {
  void runCeiling(request.jobs, request.clients, request.settings, request.dir).then((result) => process.send!(result));
});
