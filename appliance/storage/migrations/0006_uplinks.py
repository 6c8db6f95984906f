from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_cloud_sync_outbox')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Uplink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=64)),
                ('interface', fields.CharField(max_length=32)),
                ('gateway', fields.CharField(default='', max_length=64)),
                ('priority', fields.IntField(default=10)),
                ('probe_targets', fields.CharField(default='', max_length=1024)),
                ('ip_trunks', fields.CharField(default='', max_length=1024)),
                ('public_address', fields.CharField(default='', max_length=64)),
                ('enabled', fields.BooleanField(default=True)),
            ],
            options={'table': 'uplink', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An internet uplink of the box (an Ethernet port or an LTE modem), probed and switched.'},
            bases=['Model'],
        ),
    ]
