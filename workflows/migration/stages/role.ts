/** Stage 2: the plan's role on the account, for each principal; an equivalent existing assignment is kept, not ours. */
import { arm, armCall } from '../activities';
import type { MigrationRun } from '../state';

export async function assignRole(run: MigrationRun, principals: readonly string[]): Promise<void> {
  const { board, b } = run;
  const { role } = b;
  const scope = b.account.resourceId;
  board.begin('role');
  run.resourcesTouched.add(scope);
  const grants = principals.map((principalId) => ({ scope, principalId, roleDefinitionId: role.definitionId }));
  for (const grant of grants) {
    run.compensate(
      {
        kind: 'delete-role-assignment',
        scope,
        principalId: grant.principalId,
        roleDefinitionId: role.definitionId,
        preExistingNames: b.roleAssignments.map((ra) => ra.name.toLowerCase()),
      },
      `delete the ${role.name} assignment of ${grant.principalId}`,
    );
    if (run.lean) continue; // every grant in one activity, below
    const ra = await arm.assignRole.executeWithOptions({ ...armCall, summary: `${role.name} → ${grant.principalId}` }, [
      grant,
    ]);
    run.roleAssignments.push(ra);
  }
  if (run.lean)
    run.roleAssignments.push(
      ...(await arm.assignRoles.executeWithOptions({ ...armCall, summary: `${role.name} → ${principals.join(', ')}` }, [
        { grants },
      ])),
    );
  board.end(
    'role',
    'done',
    run.roleAssignments.map((ra) => `${ra.name}${ra.ours ? '' : ' (pre-existing)'}`).join(', '),
  );
}
