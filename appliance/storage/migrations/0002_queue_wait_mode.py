from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Queue',
            name='wait_mode',
            field=fields.CharField(default='music', max_length=8),
        ),
    ]
