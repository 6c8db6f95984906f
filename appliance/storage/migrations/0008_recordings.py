from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_trunk_failover')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RecordingAccess',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('username', fields.CharField(max_length=64)),
                ('role', fields.CharField(max_length=16)),
                ('via', fields.CharField(max_length=8)),
                ('address', fields.CharField(default='', max_length=64)),
                ('action', fields.CharField(max_length=12)),
                ('recording_id', fields.IntField(null=True)),
                ('detail', fields.CharField(default='', max_length=255)),
            ],
            options={'table': 'recording_access', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Who listened to, downloaded or exported which recording, and when.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Operator',
            name='record',
            field=fields.BooleanField(default=True),
        ),
        ops.AddField(
            model_name='Queue',
            name='record',
            field=fields.BooleanField(default=True),
        ),
        ops.AddField(
            model_name='Recording',
            name='channels',
            field=fields.IntField(default=1),
        ),
        ops.AddField(
            model_name='Recording',
            name='state',
            field=fields.CharField(default='ready', db_index=True, max_length=12),
        ),
        ops.AddField(
            model_name='Trunk',
            name='record',
            field=fields.BooleanField(default=True),
        ),
    ]
