/** Stage 2: the plan's role on the account, for each principal; an equivalent existing assignment is kept, not ours. */
import { arm, armCall } from '../activities';
import type { MigrationRun } from '../state';

export async function assignRole(run: MigrationRun, principals: readonly string[]): Promise<void> {
  const { board, b } = run;
  const { role } = b;
  const scope = b.account.resourceId;
  board.begin('role');
  run.resourcesTouched.add(scope);
  for (const principalId of principals) {
    run.compensate(
      {
        kind: 'delete-role-assignment',
        scope,
        principalId,
        roleDefinitionId: role.definitionId,
        preExistingNames: b.roleAssignments.map((ra) => ra.name.toLowerCase()),
      },
      `delete the ${role.name} assignment of ${principalId}`,
    );
    const ra = await arm.assignRole.executeWithOptions({ ...armCall, summary: `${role.name} → ${principalId}` }, [
      { scope, principalId, roleDefinitionId: role.definitionId },
    ]);
    run.roleAssignments.push(ra);
  }
  board.end(
    'role',
    'done',
    run.roleAssignments.map((ra) => `${ra.name}${ra.ours ? '' : ' (pre-existing)'}`).join(', '),
  );
}
