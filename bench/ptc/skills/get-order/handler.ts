import { order } from '../../catalog-data'

export default (args: { order_id: string }) => order(args.order_id)
