from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_uplinks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OutboundRoute',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=64)),
                ('pattern', fields.CharField(default='', max_length=255)),
                ('strip', fields.IntField(default=0)),
                ('prepend', fields.CharField(default='', max_length=32)),
                ('trunks', fields.CharField(default='', max_length=1024)),
                ('failover_codes', fields.CharField(default='408,5xx,6xx', max_length=128)),
                ('progress_timeout_s', fields.FloatField(default=2.0)),
                ('ring_timeout_s', fields.IntField(default=60)),
                ('position', fields.IntField(default=0)),
                ('enabled', fields.BooleanField(default=True)),
            ],
            options={'table': 'outbound_route', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A dial pattern and the trunks, in order, that outbound calls matching it go through.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SelfTestPlan',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('interval_min', fields.IntField(default=0)),
                ('timeout_s', fields.FloatField(default=20.0)),
            ],
            options={'table': 'selftest_plan', 'app': 'models', 'pk_attr': 'id', 'table_description': 'When the carrier self-test runs by itself (one row, none means never).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SelfTestResult',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('run_id', fields.CharField(db_index=True, max_length=36)),
                ('from_trunk', fields.CharField(max_length=64)),
                ('to_trunk', fields.CharField(max_length=64)),
                ('number', fields.CharField(max_length=64)),
                ('ok', fields.BooleanField()),
                ('setup_ms', fields.IntField(null=True)),
                ('cause', fields.CharField(default='', max_length=255)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'selftest_result', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One carrier pair of a self-test run: a call out through one trunk to our own DID on another.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Trunk',
            name='caller_id',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.AddField(
            model_name='Trunk',
            name='codecs',
            field=fields.CharField(default='', max_length=128),
        ),
        ops.AddField(
            model_name='Trunk',
            name='down_after',
            field=fields.IntField(default=3),
        ),
        ops.AddField(
            model_name='Trunk',
            name='max_channels',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='Trunk',
            name='probe_interval_s',
            field=fields.FloatField(default=2.0),
        ),
        ops.AddField(
            model_name='Trunk',
            name='probe_timeout_s',
            field=fields.FloatField(default=1.5),
        ),
        ops.AddField(
            model_name='Trunk',
            name='test_number',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.AddField(
            model_name='Trunk',
            name='up_after',
            field=fields.IntField(default=2),
        ),
        ops.AddField(
            model_name='Trunk',
            name='weight',
            field=fields.IntField(default=100),
        ),
    ]
