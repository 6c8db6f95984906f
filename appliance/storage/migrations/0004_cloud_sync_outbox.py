from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_auth_and_settings')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OutboxRecord',
            fields=[
                ('seq', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=16)),
                ('ref', fields.CharField(max_length=64)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('payload', fields.TextField(unique=False)),
            ],
            options={'table': 'sync_outbox', 'app': 'models', 'pk_attr': 'seq', 'table_description': 'A record waiting for the cloud, numbered by a sequence that is never reused.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SyncChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=16)),
                ('ref', fields.CharField(max_length=64)),
            ],
            options={'table': 'sync_change', 'app': 'models', 'pk_attr': 'id', 'table_description': "A row the cloud has not been given yet, noted by SQLite triggers in the writer's transaction."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SyncState',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('stream', fields.CharField(max_length=36)),
                ('inflight_first', fields.BigIntField(null=True)),
                ('inflight_last', fields.BigIntField(null=True)),
                ('inflight_key', fields.CharField(default='', max_length=128)),
                ('acked_seq', fields.BigIntField(default=0)),
                ('last_success_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=255)),
            ],
            options={'table': 'sync_state', 'app': 'models', 'pk_attr': 'id', 'table_description': "This database's stream to the cloud: its id, the batch in flight and the last success."},
            bases=['Model'],
        ),
    ]
